import Fastify, { type FastifyInstance } from 'fastify';
import { existsSync, unlinkSync } from 'node:fs';
import http from 'node:http';
import path from 'node:path';
import { AppSettingsError } from '../domain/apps/app-settings.js';
import { isUuid } from '../domain/apps/app.js';
import type { Keygate } from '../keygate.js';
import { seedPeople } from '../domain/people/seed.js';
import { isZoneName } from '../domain/zones/zones.js';
import { OPERATOR } from '../domain/audit/audit-log.js';
import type { StoreName } from '../storage/stores.js';

const isStoreName = (value: unknown): value is StoreName => value === 'control' || isZoneName(value);

/**
 * An embedded store belongs to one process, so while a server runs on a data directory
 * the CLI asks that server to act for it, through a Unix socket in the data directory.
 * The socket file is mode 0600: only the operator's own user can reach it.
 */
export const operatorSocketPath = (dataDir: string) => path.join(dataDir, 'keygate.sock');

export interface CreateAppRequest {
  name: string;
  origins: string[];
  returnUrls: string[];
  redirectUris?: string[];
  publicClient?: boolean;
  legalBasis?: string;
}

/** Sends one operator request to a server on this data directory; null when none is listening. */
export function callOperatorSocket<T>(dataDir: string, route: string, body: unknown): Promise<{ status: number; body: T } | null> {
  const socketPath = operatorSocketPath(dataDir);
  if (!existsSync(socketPath)) return Promise.resolve(null);
  return new Promise((resolve, reject) => {
    const request = http.request({ socketPath, path: route, method: 'POST', headers: { 'content-type': 'application/json' } }, (response) => {
      const chunks: Buffer[] = [];
      response.on('data', (chunk: Buffer) => chunks.push(chunk));
      response.on('end', () => {
        try {
          resolve({ status: response.statusCode ?? 500, body: JSON.parse(Buffer.concat(chunks).toString('utf8')) as T });
        } catch (error) {
          reject(error);
        }
      });
    });
    request.on('error', (error: NodeJS.ErrnoException) => {
      // A socket file left by a server that died: nobody is listening.
      if (error.code === 'ECONNREFUSED' || error.code === 'ENOENT') resolve(null);
      else reject(error);
    });
    request.end(JSON.stringify(body));
  });
}

/** The operator's export of one person, or null when no account has this email. */
export async function exportPerson(keygate: Keygate, email: string): Promise<Record<string, unknown> | null> {
  const person = await keygate.services.personDirectory.findByEmail(email);
  return person ? keygate.services.accountCentre.exportData(person, {}, OPERATOR) : null;
}

/** Erases one person at the operator's hand; false when no account has this email. */
export async function erasePerson(keygate: Keygate, email: string): Promise<boolean> {
  const person = await keygate.services.personDirectory.findByEmail(email);
  if (!person) return false;
  await keygate.services.accountCentre.erase(person, OPERATOR);
  return true;
}

export const SEEDED_PASSWORD = 'seeded-person-password';

export function seed(keygate: Keygate, count: number) {
  if (keygate.config.production) throw new Error('keygate seed fills development stores only; NODE_ENV is production');
  return seedPeople(keygate.services, count, SEEDED_PASSWORD);
}

/** Starts the operator socket of a running server. Refuses when another server owns the directory. */
export async function startOperatorSocket(keygate: Keygate): Promise<FastifyInstance> {
  const socketPath = operatorSocketPath(keygate.config.dataDir);
  if (await callOperatorSocket(keygate.config.dataDir, '/ping', {})) {
    throw new Error(`another Keygate server is already running on ${keygate.config.dataDir}`);
  }
  if (existsSync(socketPath)) unlinkSync(socketPath);

  const socket = Fastify({ logger: false });
  socket.post('/ping', async () => ({ ok: true }));
  socket.post<{ Body: CreateAppRequest }>('/apps', async (request, reply) => {
    const body = request.body;
    try {
      const created = await keygate.services.apps.createApp({
        name: String(body?.name ?? ''),
        origins: Array.isArray(body?.origins) ? body.origins.map(String) : [],
        returnUrls: Array.isArray(body?.returnUrls) ? body.returnUrls.map(String) : [],
        redirectUris: Array.isArray(body?.redirectUris) ? body.redirectUris.map(String) : [],
        publicClient: body?.publicClient === true,
        legalBasis: typeof body?.legalBasis === 'string' ? body.legalBasis : undefined,
      }, OPERATOR);
      return created;
    } catch (error) {
      if (error instanceof AppSettingsError) return reply.code(400).send({ error: error.message });
      throw error;
    }
  });
  socket.post<{ Body: { appId?: unknown; fields?: unknown } }>('/apps/allow-mandatory', async (request, reply) => {
    const { appId, fields } = request.body ?? {};
    if (typeof appId !== 'string' || !isUuid(appId) || !Array.isArray(fields)) return { ok: false };
    try {
      return { ok: await keygate.services.apps.allowMandatory(appId.toLowerCase(), fields.map(String), OPERATOR) };
    } catch (error) {
      if (error instanceof AppSettingsError) return reply.code(400).send({ error: error.message });
      throw error;
    }
  });
  // Data-subject requests answered by the operator, and development seeding.
  socket.post<{ Body: { email?: unknown } }>('/people/export', async (request) => exportPerson(keygate, String(request.body?.email ?? '')));
  socket.post<{ Body: { email?: unknown } }>('/people/erase', async (request) => ({ erased: await erasePerson(keygate, String(request.body?.email ?? '')) }));
  socket.post<{ Body: { people?: unknown } }>('/seed', async (request, reply) => {
    const count = Number(request.body?.people);
    if (!Number.isInteger(count) || count < 1 || count > 100_000) return reply.code(400).send({ error: '--people must be 1 to 100000' });
    return seed(keygate, count);
  });
  socket.post<{ Body: { store?: string } }>('/keys/rotate', async (request, reply) => {
    const store = request.body?.store;
    if (store !== 'control' && !isZoneName(store)) return reply.code(400).send({ error: 'unknown store' });
    return keygate.rotateMasterKey(store);
  });
  socket.post('/keys/rotate-signing', async () => keygate.services.signingKeys.rotate(OPERATOR));
  // `keygate audit verify`: the stores' chains and checkpoints, then a checkpoint at each verified head.
  socket.post<{ Body: { stores?: unknown; checkpoint?: unknown } }>('/audit/verify', async (request, reply) => {
    const stores = request.body?.stores;
    if (!Array.isArray(stores) || stores.length === 0 || !stores.every(isStoreName)) return reply.code(400).send({ error: 'unknown store' });
    const reports = [];
    for (const store of stores) reports.push(await keygate.audit.verify(store, { checkpoint: request.body?.checkpoint === true }));
    return { reports };
  });
  // `keygate audit export`: one page of a store's records at a time (`total` on request).
  socket.post<{ Body: { store?: unknown; since?: unknown; after?: unknown; limit?: unknown; total?: unknown } }>('/audit/export', async (request, reply) => {
    const { store, since, after, limit, total } = request.body ?? {};
    if (!isStoreName(store)) return reply.code(400).send({ error: 'unknown store' });
    const from = typeof since === 'string' ? new Date(since) : undefined;
    if (from && Number.isNaN(from.getTime())) return reply.code(400).send({ error: 'since must be an ISO 8601 time' });
    const page = await keygate.audit.exportPage(store, {
      since: from,
      after: typeof after === 'string' ? after : undefined,
      limit: typeof limit === 'number' ? limit : undefined,
    });
    return total === true ? { ...page, total: await keygate.audit.count(store, from) } : page;
  });
  await socket.listen({ path: socketPath, readableAll: false, writableAll: false });
  return socket;
}
