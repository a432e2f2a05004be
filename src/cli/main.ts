import { parseArgs } from 'node:util';
import { ConfigError, loadConfig, loadDotEnv, type KeygateConfig } from '../config/config.js';
import { KeyMaterialError } from '../crypto/master-keys.js';
import { AppSettingsError } from '../domain/apps/app-settings.js';
import { isUuid } from '../domain/apps/app.js';
import { createKeygate } from '../keygate.js';
import { StoreOpenError } from '../storage/stores.js';
import { callOperatorSocket, erasePerson, exportPerson, SEEDED_PASSWORD, seed, type CreateAppRequest } from './operator-socket.js';
import { createInterface } from 'node:readline/promises';
import type { Keygate } from '../keygate.js';
import { serve } from './serve.js';
import { progressBar } from './progress.js';
import { isZoneName } from '../domain/zones/zones.js';
import type { RotationResult } from '../storage/maintenance/key-rotation.js';
import { RedisStartError } from '../shared-state/redis.js';
import { once } from 'node:events';
import { OPERATOR } from '../domain/audit/audit-log.js';
import type { CreatedApp } from '../domain/apps/apps-service.js';
import { AUDIT_STORES, type ExportPage, type StoreVerification } from '../storage/audit/audit-trail.js';
import type { StoreName } from '../storage/stores.js';

const USAGE = `Usage: keygate <command> [options]

Commands:
  serve                         Start the gateway (what \`npm start\` runs).
  app create                    Register an app and print its App ID and Secret Key.
      --name NAME               The app's name, shown to people on the consent screen.
      --origin ORIGIN           An origin the app calls from (repeatable), e.g. https://app.example.org
      --return-url URL          A Ukey1 return URL people are sent back to (repeatable).
      --redirect-uri URI        An OpenID Connect redirect URI, matched exactly (repeatable).
                                At least one return URL or redirect URI is needed.
      --public                  An OpenID Connect client without a secret (it must use PKCE).
      --legal-basis TEXT        Why the app needs the fields it makes mandatory.
      --json                    Print {"appId", "secretKey", "clientId", "clientSecret"} as JSON
                                (no clientSecret for a public client or without redirect URIs).
  app allow-mandatory APP_ID FIELD...
                                Let an app make these fields mandatory (email, image need
                                this approval), e.g. \`keygate app allow-mandatory <id> email image\`.
  migrate                       Apply pending migrations to every store, then exit.
  keys rotate --zone STORE      Re-wrap everything a store (eu, us or control) sealed under
                                retiring master keys (…_PREVIOUS) with its current one.
      --batch-size N            Rows per committed batch (default 200).
  keys rotate-signing           Make Keygate's next signing key: published in the key set at
                                once, signing once cached key sets hold it; the key it replaces
                                stays published until the last token it signed has expired.
      --json                    Print {"next", "retiring"} as JSON.
  audit verify                  Walk the hash-chained audit trail of every store and check its
                                signed checkpoints; name the first record that was edited,
                                deleted, inserted or reordered (exit status 4). A trail that
                                verifies is then sealed by a signed checkpoint at its head.
      --zone STORE              Only this store: eu, us or control.
      --no-checkpoint           Verify only; write nothing.
      --json                    Print the reports as JSON.
  audit export                  Write audit records as JSON lines to stdout, in chain order.
      --zone STORE              Only this store (default: control, then every zone).
      --since ISO-TIME          Only records from then on, e.g. 2026-01-31T00:00:00Z.
  person export --email EMAIL   Print everything held about one person as JSON (a data-subject
                                access request), recorded as an operator action.
  person erase --email EMAIL    Erase one person: their data key is destroyed, then every row.
      --yes                     Do not ask to type the email again (required without a terminal).
  seed --people N               Fill development stores with N fake people and a demo app they
                                use (refused when NODE_ENV=production). Password: ${SEEDED_PASSWORD}
  help                          Show this text.

Configuration comes from KEYGATE_* environment variables (and an optional .env file).`;

class UsageError extends Error {}
/** The running server refused an operator request; its message says why. */
class OperatorRefusal extends Error {}

async function createApp(config: KeygateConfig, args: string[]): Promise<void> {
  const { values } = parseArgs({
    args,
    options: {
      name: { type: 'string' },
      origin: { type: 'string', multiple: true, default: [] },
      'return-url': { type: 'string', multiple: true, default: [] },
      'redirect-uri': { type: 'string', multiple: true, default: [] },
      public: { type: 'boolean', default: false },
      'legal-basis': { type: 'string' },
      json: { type: 'boolean', default: false },
    },
    strict: true,
  });
  if (!values.name) throw new UsageError('app create needs --name');
  if (values['return-url'].length === 0 && values['redirect-uri'].length === 0) throw new UsageError('app create needs at least one --return-url or --redirect-uri');
  if (values.public && values['redirect-uri'].length === 0) throw new UsageError('a --public client needs at least one --redirect-uri');
  const request: CreateAppRequest = {
    name: values.name,
    origins: values.origin,
    returnUrls: values['return-url'],
    redirectUris: values['redirect-uri'],
    publicClient: values.public,
    legalBasis: values['legal-basis'],
  };

  let created: CreatedApp;
  const viaServer = await callOperatorSocket<CreatedApp & { error?: string }>(config.dataDir, '/apps', request);
  if (viaServer) {
    if (viaServer.status !== 200) throw new OperatorRefusal(viaServer.body.error ?? 'the server refused the app');
    created = viaServer.body;
  } else {
    const keygate = await createKeygate({ config });
    try {
      created = await keygate.services.apps.createApp(request, OPERATOR);
    } finally {
      await keygate.close();
    }
  }

  const { appId, secretKey, clientId, clientSecret } = created;
  if (values.json) {
    process.stdout.write(`${JSON.stringify({ appId, secretKey, clientId, ...(clientSecret ? { clientSecret } : {}) })}\n`);
  } else {
    const client = clientSecret ? `\nOpenID Connect client ID:     ${clientId}\nOpenID Connect client secret: ${clientSecret} (shown only now)\n`
      : values.public ? `\nOpenID Connect client ID: ${clientId} (a public client: no secret, PKCE required)\n` : '';
    process.stdout.write(`App registered.\n\nApp ID:     ${appId}\nSecret Key: ${secretKey}\n${client}\nThe Secret Key identifies the app; its users can compute it from the signatures Keygate publishes.\nCalls that change the app (its private list) need IP protection on.\n`);
  }
}

async function allowMandatory(config: KeygateConfig, args: string[]): Promise<void> {
  const [appId, ...fields] = args;
  if (!appId || fields.length === 0) throw new UsageError('app allow-mandatory needs an App ID and at least one field');
  const viaServer = await callOperatorSocket<{ ok?: boolean; error?: string }>(config.dataDir, '/apps/allow-mandatory', { appId, fields });
  let found: boolean;
  if (viaServer) {
    if (viaServer.status !== 200) throw new OperatorRefusal(viaServer.body.error ?? 'the server refused the request');
    found = viaServer.body.ok === true;
  } else {
    const keygate = await createKeygate({ config });
    try {
      found = isUuid(appId) && await keygate.services.apps.allowMandatory(appId.toLowerCase(), fields, OPERATOR);
    } finally {
      await keygate.close();
    }
  }
  if (!found) throw new OperatorRefusal(`no app has the App ID ${appId}`);
  process.stdout.write(`App ${appId} may now make ${fields.join(', ')} mandatory (with a legal basis, in its settings).\n`);
}

/** Runs `work` through a running embedded server's socket, or on the stores directly. */
async function asOperator<T>(config: KeygateConfig, route: string, body: unknown, work: (keygate: Keygate) => Promise<T>): Promise<T> {
  const viaServer = await callOperatorSocket<T & { error?: string }>(config.dataDir, route, body);
  if (viaServer) {
    if (viaServer.status !== 200) throw new OperatorRefusal(viaServer.body.error ?? 'the server refused the request');
    return viaServer.body;
  }
  const keygate = await createKeygate({ config });
  try {
    return await work(keygate);
  } finally {
    await keygate.close();
  }
}

function emailOption(args: string[], extra: Record<string, { type: 'boolean' }> = {}) {
  const { values } = parseArgs({ args, options: { email: { type: 'string' }, ...extra }, strict: true });
  if (!values.email) throw new UsageError('this command needs --email');
  return values as { email: string } & Record<string, unknown>;
}

async function exportPersonCommand(config: KeygateConfig, args: string[]): Promise<void> {
  const { email } = emailOption(args);
  const data = await asOperator(config, '/people/export', { email }, (keygate) => exportPerson(keygate, email));
  if (!data) throw new OperatorRefusal('no account has this email');
  process.stdout.write(`${JSON.stringify(data, null, 2)}\n`);
}

async function erasePersonCommand(config: KeygateConfig, args: string[]): Promise<void> {
  const { email, yes } = emailOption(args, { yes: { type: 'boolean' } });
  if (!yes) {
    if (!process.stdin.isTTY) throw new UsageError('person erase asks for confirmation: run it in a terminal, or add --yes');
    const prompt = createInterface({ input: process.stdin, output: process.stderr });
    const typed = await prompt.question(`Erasing cannot be undone. Type the email again to erase ${email}: `);
    prompt.close();
    if (typed.trim() !== email) throw new OperatorRefusal('the email did not match; nothing was erased');
  }
  const { erased } = await asOperator(config, '/people/erase', { email }, async (keygate) => ({ erased: await erasePerson(keygate, email) }));
  if (!erased) throw new OperatorRefusal('no account has this email; nothing was erased');
  process.stdout.write('Erased: the data key is destroyed and every row about the person is gone. The audit trail records the erasure.\n');
}

async function seedCommand(config: KeygateConfig, args: string[]): Promise<void> {
  const { values } = parseArgs({ args, options: { people: { type: 'string' } }, strict: true });
  const count = Number(values.people);
  if (!Number.isInteger(count) || count < 1 || count > 100_000) throw new UsageError('seed needs --people N (1 to 100000)');
  if (config.production) throw new OperatorRefusal('seed fills development stores only; NODE_ENV is production');
  const result = await asOperator(config, '/seed', { people: count }, (keygate) => seed(keygate, count));
  process.stdout.write(`Seeded ${result.people} people (${result.consents} consents to the demo app ${result.appId}); every seeded password is ${SEEDED_PASSWORD}.\n`);
}

async function migrateStores(config: KeygateConfig): Promise<void> {
  const keygate = await createKeygate({ config });
  await keygate.close();
  process.stdout.write('Every store is migrated to the latest version.\n');
}

async function rotateKeys(config: KeygateConfig, args: string[]): Promise<void> {
  const { values } = parseArgs({ args, options: { zone: { type: 'string' }, 'batch-size': { type: 'string' } }, strict: true });
  const store = values.zone;
  if (store !== 'control' && !isZoneName(store)) throw new UsageError('keys rotate needs --zone eu, us or control');
  const batchSize = values['batch-size'] === undefined ? undefined : Number(values['batch-size']);
  if (batchSize !== undefined && (!Number.isInteger(batchSize) || batchSize < 1 || batchSize > 10_000)) throw new UsageError('--batch-size must be 1 to 10000');

  let result: RotationResult;
  const viaServer = await callOperatorSocket<RotationResult>(config.dataDir, '/keys/rotate', { store });
  if (viaServer) {
    result = viaServer.body;
  } else {
    const keygate = await createKeygate({ config });
    const bar = progressBar(`Re-wrapping ${store} keys`);
    try {
      result = await keygate.rotateMasterKey(store, { batchSize, onProgress: ({ done, total }) => bar.update(done, total) });
    } finally {
      bar.finish();
      await keygate.close();
    }
  }

  process.stdout.write(`Re-wrapped ${result.rewrapped} key(s) of ${store} under master key ${result.currentKeyId}.\n`);
  if (result.remaining > 0) {
    process.stdout.write(`${result.remaining} key(s) are still under an older master key: run the command again to finish.\n`);
    throw new IncompleteError();
  }
  const retired = result.retiredKeyIds.filter((id) => id !== result.currentKeyId);
  process.stdout.write(retired.length > 0
    ? `Rotation complete: master key(s) ${retired.join(', ')} are no longer needed by ${store}. Remove them from every node's configuration, then destroy them.\n`
    : `Rotation complete: nothing in ${store} needs an older master key.\n`);
}

async function rotateSigningKey(config: KeygateConfig, args: string[]): Promise<void> {
  const { values } = parseArgs({ args, options: { json: { type: 'boolean' } }, strict: true });
  type Rotation = { next: { kid: string; signsFrom: string }; retiring: Array<{ kid: string; retiresAt: string }> };
  let rotation: Rotation;
  const viaServer = await callOperatorSocket<Rotation>(config.dataDir, '/keys/rotate-signing', {});
  if (viaServer) {
    rotation = viaServer.body;
  } else {
    const keygate = await createKeygate({ config });
    try {
      rotation = JSON.parse(JSON.stringify(await keygate.services.signingKeys.rotate(OPERATOR))) as Rotation;
    } finally {
      await keygate.close();
    }
  }
  if (values.json) {
    process.stdout.write(`${JSON.stringify(rotation)}\n`);
    return;
  }
  process.stdout.write(`Signing key ${rotation.next.kid} is published and signs from ${rotation.next.signsFrom}.\n`);
  for (const key of rotation.retiring) process.stdout.write(`Signing key ${key.kid} leaves the key set at ${key.retiresAt}.\n`);
}

class IncompleteError extends Error {}
/** An audit trail did not verify. */
class AuditFailure extends Error {}

function auditStoresOf(zone: string | undefined): StoreName[] {
  if (zone === undefined) return [...AUDIT_STORES];
  if (zone !== 'control' && !isZoneName(zone)) throw new UsageError('--zone must be eu, us or control');
  return [zone];
}

function describeVerification(report: StoreVerification): string {
  if (!report.ok) return `${report.store}: FAILED at record #${report.failure!.id} (${report.failure!.kind}): ${report.failure!.message}`;
  if (!report.head) return `${report.store}: no records yet.`;
  const sealed = report.checkpointed ? `; signed a checkpoint at #${report.checkpointed}` : '';
  return `${report.store}: ${report.records} record(s) chained up to #${report.head.id} (${report.head.hash.slice(0, 16)}…), ${report.checkpoints} checkpoint(s) verified${sealed}.`;
}

async function verifyAudit(config: KeygateConfig, args: string[]): Promise<void> {
  const { values } = parseArgs({
    args,
    options: { zone: { type: 'string' }, 'no-checkpoint': { type: 'boolean', default: false }, json: { type: 'boolean', default: false } },
    strict: true,
  });
  const stores = auditStoresOf(values.zone);
  const checkpoint = !values['no-checkpoint'];
  let reports: StoreVerification[];
  const viaServer = await callOperatorSocket<{ reports: StoreVerification[]; error?: string }>(config.dataDir, '/audit/verify', { stores, checkpoint });
  if (viaServer) {
    if (viaServer.status !== 200) throw new OperatorRefusal(viaServer.body.error ?? 'the server refused the request');
    reports = viaServer.body.reports;
  } else {
    const keygate = await createKeygate({ config });
    reports = [];
    try {
      for (const store of stores) {
        const bar = progressBar(`Verifying ${store}`);
        try {
          reports.push(await keygate.audit.verify(store, { checkpoint, onProgress: (done, total) => bar.update(done, total) }));
        } finally {
          bar.finish();
        }
      }
    } finally {
      await keygate.close();
    }
  }

  if (values.json) process.stdout.write(`${JSON.stringify(reports, null, 2)}\n`);
  else for (const report of reports) process.stdout.write(`${describeVerification(report)}\n`);
  const failed = reports.filter((r) => !r.ok);
  if (failed.length > 0) {
    throw new AuditFailure(`the audit trail of ${failed.map((r) => `${r.store} (record #${r.failure!.id}, ${r.failure!.kind})`).join(', ')} does not verify`);
  }
  if (!values.json) {
    process.stdout.write(`Audit trails verified: ${reports.length} store(s), ${reports.reduce((n, r) => n + r.records, 0)} record(s).\n`);
  }
}

async function exportAudit(config: KeygateConfig, args: string[]): Promise<void> {
  const { values } = parseArgs({ args, options: { zone: { type: 'string' }, since: { type: 'string' } }, strict: true });
  const stores = auditStoresOf(values.zone);
  let since: Date | undefined;
  if (values.since !== undefined) {
    since = new Date(values.since);
    if (!/^\d{4}-\d{2}-\d{2}/.test(values.since) || Number.isNaN(since.getTime())) throw new UsageError('--since must be an ISO 8601 time, e.g. 2026-01-31T00:00:00Z');
  }
  const bar = progressBar('Exporting audit records');
  const write = async (page: ExportPage) => {
    if (page.records.length === 0) return;
    if (!process.stdout.write(page.records.map((r) => `${JSON.stringify(r)}\n`).join(''))) await once(process.stdout, 'drain');
  };
  const PAGE = 1000;
  let done = 0;
  let total = 0;

  if (await callOperatorSocket(config.dataDir, '/ping', {})) {
    // Through the running server, a page at a time.
    type Answer = ExportPage & { total?: number; error?: string };
    for (const store of stores) {
      let after: string | null = '0';
      while (after !== null) {
        const answer: { status: number; body: Answer } | null = await callOperatorSocket<Answer>(config.dataDir, '/audit/export', {
          store, since: since?.toISOString(), after, limit: PAGE, total: after === '0',
        });
        if (!answer) throw new OperatorRefusal('the server stopped during the export');
        if (answer.status !== 200) throw new OperatorRefusal(answer.body.error ?? 'the server refused the request');
        if (answer.body.total !== undefined) total += answer.body.total;
        await write(answer.body);
        done += answer.body.records.length;
        bar.update(done, Math.max(total, done));
        after = answer.body.next;
      }
    }
  } else {
    const keygate = await createKeygate({ config });
    try {
      for (const store of stores) total += await keygate.audit.count(store, since);
      for (const store of stores) {
        let after: string | null = '0';
        while (after !== null) {
          const page: ExportPage = await keygate.audit.exportPage(store, { since, after, limit: PAGE });
          await write(page);
          done += page.records.length;
          bar.update(done, Math.max(total, done));
          after = page.next;
        }
      }
    } finally {
      await keygate.close();
    }
  }
  bar.finish();
}

/** Each command by the words that name it. */
const COMMANDS = new Map<string, (config: KeygateConfig, args: string[]) => Promise<void>>([
  ['serve', (config) => serve(config)],
  ['app create', createApp],
  ['app allow-mandatory', allowMandatory],
  ['person export', exportPersonCommand],
  ['person erase', erasePersonCommand],
  ['seed', seedCommand],
  ['migrate', (config) => migrateStores(config)],
  ['keys rotate', rotateKeys],
  ['keys rotate-signing', rotateSigningKey],
  ['audit verify', verifyAudit],
  ['audit export', exportAudit],
]);

export async function main(argv: string[]): Promise<number> {
  const [command, sub, ...rest] = argv;
  try {
    if (command === undefined || command === 'help' || command === '--help' || command === '-h') {
      process.stdout.write(`${USAGE}\n`);
      return command === undefined ? 1 : 0;
    }
    loadDotEnv();
    const config = loadConfig();
    // A command named by two words takes the words after them; one named by one word, all after it.
    const twoWords = sub === undefined ? undefined : COMMANDS.get(`${command} ${sub}`);
    const run = twoWords ?? COMMANDS.get(command);
    if (run === undefined) throw new UsageError(`unknown command: ${[command, sub].filter(Boolean).join(' ')}`);
    await run(config, twoWords ? rest : [sub, ...rest].filter((a): a is string => a !== undefined));
    return command === 'serve' ? -1 : 0;
  } catch (error) {
    if (error instanceof IncompleteError) return 3;
    if (error instanceof AuditFailure) {
      process.stderr.write(`keygate: ${error.message}\n`);
      return 4;
    }
    if (error instanceof UsageError || (error as { code?: string }).code?.startsWith('ERR_PARSE_ARGS')) {
      process.stderr.write(`keygate: ${(error as Error).message}\n\n${USAGE}\n`);
      return 2;
    }
    if (error instanceof ConfigError || error instanceof KeyMaterialError || error instanceof StoreOpenError
      || error instanceof AppSettingsError || error instanceof OperatorRefusal || error instanceof RedisStartError) {
      process.stderr.write(`keygate: ${error.message}\n`);
      return 1;
    }
    process.stderr.write(`keygate: ${(error as Error).message}\n`);
    return 1;
  }
}
