// The floor: a minimal Fastify server that does exactly the private-key (or argon2) work
// each Keygate endpoint does per request, and nothing else: no storage, no audit. It runs
// on as many worker processes as Keygate, so their ratio shows what our own work costs.
//
// FLOOR_MODE picks how that work uses the cores, to compare the two designs the issue
// names for the private-key work with the same load generator:
// - `cluster` (default): WORKERS processes (node:cluster), each decrypting on its event
//   loop, as Keygate does;
// - `threads`: one process whose event loop hands each request's RSA work to a pool of
//   WORKERS worker threads, each with its own copy of the key;
// - `async`: one process doing its RSA work through Web Crypto, whose jobs run on libuv's
//   thread pool (Node has no callback form of `privateDecrypt`).
import argon2 from 'argon2';
import cluster from 'node:cluster';
import {
  constants, createHash, createPrivateKey, createPublicKey, generateKeyPairSync, privateDecrypt, randomBytes, randomUUID, sign, timingSafeEqual,
  verify, webcrypto, type KeyObject,
} from 'node:crypto';
import { isMainThread, parentPort, Worker, workerData } from 'node:worker_threads';
import Fastify, { type FastifyRequest } from 'fastify';
import { jwtVerify, SignJWT } from 'jose';
import { PASSWORD_HASH_OPTIONS } from '../src/crypto/passwords.js';

const port = Number(process.env.PORT);
const workers = Number(process.env.WORKERS ?? 1);
const mode = process.env.FLOOR_MODE ?? 'cluster';
const appId = '00000000-0000-4000-8000-00000000f100';

/** One request's RSA work: the request signature to check, then at most one RS512 operation. */
interface RsaWork {
  /** X-Ukey1-Signature as sent, and the digest it must decrypt to. */
  readonly signature?: { readonly header: string; readonly digest: Uint8Array };
  readonly then?: 'sign-jwt' | { readonly verifyJwt: string } | { readonly signRedirect: string };
}

/** Runs RSA work; answers the JWT or redirect signature made, or '' when none was. */
type RunRsaWork = (work: RsaWork) => Promise<string>;

const oaep = { padding: constants.RSA_PKCS1_OAEP_PADDING, oaepHash: 'sha1' } as const;
const decodeSignature = (header: string) => Buffer.from(decodeURIComponent(header), 'base64');
const claims = () => ({ user: { id: randomUUID() }, aud: appId, exp: Math.floor(Date.now() / 1000) + 15 * 60 });

if (!isMainThread) {
  serveRsaThread(workerData as { pem: string });
} else if (cluster.isPrimary && workers > 1 && mode === 'cluster') {
  const pair = generateKeyPairSync('rsa', { modulusLength: 2048 });
  const env = {
    FLOOR_KEY: pair.privateKey.export({ format: 'pem', type: 'pkcs8' }) as string,
    FLOOR_HASH: await argon2.hash('bench password 1234', PASSWORD_HASH_OPTIONS),
  };
  let listening = 0;
  cluster.on('listening', () => {
    if (++listening === workers) console.log(JSON.stringify({ ready: true, secretKey: publicSpki(env.FLOOR_KEY), appId }));
  });
  for (let i = 0; i < workers; i++) cluster.fork(env);
} else {
  const pem = process.env.FLOOR_KEY ?? (generateKeyPairSync('rsa', { modulusLength: 2048 }).privateKey.export({ format: 'pem', type: 'pkcs8' }) as string);
  const passwordHash = process.env.FLOOR_HASH ?? await argon2.hash('bench password 1234', PASSWORD_HASH_OPTIONS);
  const runRsaWork = mode === 'threads' ? startRsaThreads(pem, workers) : mode === 'async' ? await webCryptoRsaWork(pem) : inlineRsaWork(pem);
  const server = Fastify({ logger: false });
  server.removeAllContentTypeParsers();
  server.addContentTypeParser('*', { parseAs: 'buffer' }, (_r, body, done) => done(null, body));

  // The request signature: one RSA-OAEP decryption and a constant-time compare.
  const signatureOf = (request: FastifyRequest, path: string): RsaWork['signature'] => {
    const header = request.headers['x-ukey1-signature'];
    if (typeof header !== 'string') return undefined;
    const token = request.headers.authorization?.slice(7) ?? '';
    const digest = Buffer.from(createHash('sha512').update(appId + request.method + path).update((request.body as Buffer | undefined) ?? '').update(token).digest('hex'));
    return { header, digest };
  };
  const pair = async (accessToken: string) => ({ result: 200, access_token: accessToken, expiration: new Date().toISOString(), scope: [], refresh_token: `eu.${randomBytes(32).toString('base64url')}` });

  server.post('/auth/v2/connect', async (request, reply) => {
    await runRsaWork({ signature: signatureOf(request, '/auth/v2/connect') });
    return reply.code(201).send({ result: 201, connect_id: randomUUID(), gateway: `http://127.0.0.1:${port}/gateway/x` });
  });
  server.post('/auth/v2/token', async (request) => pair(await runRsaWork({ signature: signatureOf(request, '/auth/v2/token'), then: 'sign-jwt' })));
  server.post('/auth/v2/token/refresh', async (request) => pair(await runRsaWork({ signature: signatureOf(request, '/auth/v2/token/refresh'), then: 'sign-jwt' })));
  server.get('/auth/v2/me', async (request) => {
    await runRsaWork({ signature: signatureOf(request, '/auth/v2/me'), then: { verifyJwt: request.headers.authorization!.slice(7) } });
    return { result: 200, scope: [], user: { id: appId } };
  });
  server.post('/gateway/:connectId/sign-in', async (_request, reply) => {
    await argon2.verify(passwordHash, 'bench password 1234');
    return reply.code(303).header('location', '/gateway/x').send();
  });
  // Consent: the signed redirect back to the app.
  server.post('/gateway/:connectId/consent', async (_request, reply) => {
    const code = randomBytes(32).toString('base64url');
    const signature = await runRsaWork({ then: { signRedirect: appId + code } });
    return reply.code(303).header('location', `https://app.example/back?_ukey1%5Bcode%5D=${code}&_ukey1%5Bsignature%5D=${encodeURIComponent(signature)}`).send();
  });
  // OpenID Connect: the token endpoint's one private-key operation is the ID token's signature
  // (RS256; the SHA-256 hashes of the secret, code, verifier and at_hash are noise beside it).
  // Userinfo behind an opaque token does no private-key work at all.
  server.post('/oidc/token', async () => ({
    access_token: `eu.${appId}.${randomBytes(32).toString('base64url')}`, token_type: 'Bearer', expires_in: 900,
    id_token: await runRsaWork({ then: 'sign-jwt' }), scope: 'openid profile email',
  }));
  server.get('/oidc/userinfo', async () => ({ sub: randomUUID(), given_name: 'Floor', family_name: 'Floor', email: 'floor@example.org', email_verified: true, locale: 'en' }));
  // Hands the generator a token this server can verify.
  server.get('/bench/token', async () => ({ access_token: await runRsaWork({ then: 'sign-jwt' }) }));
  await server.listen({ port, host: '127.0.0.1' });
  if (!cluster.isWorker) console.log(JSON.stringify({ ready: true, mode, secretKey: publicSpki(pem), appId }));
}

/** `cluster`: what Keygate does, on the event loop (jose signs and verifies through Web Crypto). */
function inlineRsaWork(pem: string): RunRsaWork {
  const privateKey = createPrivateKey(pem);
  const publicKey = createPublicKey(privateKey);
  return async ({ signature, then }) => {
    if (signature) timingSafeEqual(privateDecrypt({ key: privateKey, ...oaep }, decodeSignature(signature.header)), signature.digest);
    if (then === 'sign-jwt') return new SignJWT(claims()).setProtectedHeader({ alg: 'RS512' }).sign(privateKey);
    if (typeof then === 'object' && 'verifyJwt' in then) await jwtVerify(then.verifyJwt, publicKey, { algorithms: ['RS512'], audience: appId });
    if (typeof then === 'object' && 'signRedirect' in then) return signRedirect(privateKey, then.signRedirect);
    return '';
  };
}

/** The same work done synchronously, as one pool thread does it for one request. */
function rsaWorkSync(privateKey: KeyObject, publicKey: KeyObject, { signature, then }: RsaWork): string {
  if (signature) timingSafeEqual(privateDecrypt({ key: privateKey, ...oaep }, decodeSignature(signature.header)), signature.digest);
  if (then === 'sign-jwt') {
    const input = `${base64url({ alg: 'RS512' })}.${base64url(claims())}`;
    return `${input}.${sign('sha512', Buffer.from(input), privateKey).toString('base64url')}`;
  }
  if (typeof then === 'object' && 'verifyJwt' in then) {
    const [header = '', payload = '', jws = ''] = then.verifyJwt.split('.');
    if (!verify('sha512', Buffer.from(`${header}.${payload}`), publicKey, Buffer.from(jws, 'base64url'))) throw new Error('bad token signature');
    const { aud, exp } = JSON.parse(Buffer.from(payload, 'base64url').toString('utf8')) as { aud: string; exp: number };
    if (aud !== appId || exp * 1000 < Date.now()) throw new Error('token not for us or expired');
  }
  if (typeof then === 'object' && 'signRedirect' in then) return signRedirect(privateKey, then.signRedirect);
  return '';
}

/**
 * `threads`: a pool of worker threads, each with its own KeyObject, since OpenSSL's RSA
 * blinding takes a per-key lock on every private operation. Each request goes to the
 * thread with the fewest jobs in flight, all of its RSA work in one message.
 */
function startRsaThreads(pem: string, count: number): RunRsaWork {
  // Worker threads do not inherit tsx's loader: each registers it before loading this file.
  const bootstrap = `import(${JSON.stringify(import.meta.resolve('tsx/esm/api'))}).then((tsx) => { tsx.register(); return import(${JSON.stringify(import.meta.url)}); })`;
  const waiting = new Map<number, { resolve: (result: string) => void; reject: (error: Error) => void }>();
  let nextId = 0;
  const threads = Array.from({ length: count }, () => {
    const thread = { worker: new Worker(bootstrap, { eval: true, workerData: { pem } }), inFlight: 0 };
    thread.worker.on('message', ({ id, result, error }: { id: number; result?: string; error?: string }) => {
      thread.inFlight -= 1;
      const job = waiting.get(id)!;
      waiting.delete(id);
      if (error === undefined) job.resolve(result!);
      else job.reject(new Error(error));
    });
    thread.worker.on('error', (error) => {
      console.error(error);
      process.exit(1);
    });
    return thread;
  });
  return (work) => new Promise((resolve, reject) => {
    const thread = threads.reduce((a, b) => (b.inFlight < a.inFlight ? b : a));
    const id = nextId++;
    waiting.set(id, { resolve, reject });
    thread.inFlight += 1;
    thread.worker.postMessage({ id, work });
  });
}

function serveRsaThread({ pem }: { pem: string }): void {
  const privateKey = createPrivateKey(pem);
  const publicKey = createPublicKey(privateKey);
  parentPort!.on('message', ({ id, work }: { id: number; work: RsaWork }) => {
    try {
      parentPort!.postMessage({ id, result: rsaWorkSync(privateKey, publicKey, work) });
    } catch (error) {
      parentPort!.postMessage({ id, error: (error as Error).message });
    }
  });
}

/**
 * `async`: Web Crypto, whose operations run as jobs on libuv's thread pool. One imported
 * copy of the key per pool thread, taken in turn, for the same per-key lock.
 */
async function webCryptoRsaWork(pem: string): Promise<RunRsaWork> {
  const { subtle } = webcrypto;
  const der = createPrivateKey(pem).export({ format: 'der', type: 'pkcs8' });
  const spki = createPublicKey(pem).export({ format: 'der', type: 'spki' });
  const copies = Number(process.env.UV_THREADPOOL_SIZE ?? 4);
  const rsassa = { name: 'RSASSA-PKCS1-v1_5', hash: 'SHA-512' } as const;
  const keys = await Promise.all(Array.from({ length: copies }, async () => ({
    decrypt: await subtle.importKey('pkcs8', der, { name: 'RSA-OAEP', hash: 'SHA-1' }, false, ['decrypt']),
    sign: await subtle.importKey('pkcs8', der, rsassa, false, ['sign']),
  })));
  const publicKey = await subtle.importKey('spki', spki, rsassa, false, ['verify']);
  let turn = 0;
  return async ({ signature, then }) => {
    const key = keys[turn++ % keys.length]!;
    if (signature) timingSafeEqual(Buffer.from(await subtle.decrypt({ name: 'RSA-OAEP' }, key.decrypt, decodeSignature(signature.header))), signature.digest);
    if (then === 'sign-jwt') return new SignJWT(claims()).setProtectedHeader({ alg: 'RS512' }).sign(key.sign);
    if (typeof then === 'object' && 'verifyJwt' in then) await jwtVerify(then.verifyJwt, publicKey, { algorithms: ['RS512'], audience: appId });
    if (typeof then === 'object' && 'signRedirect' in then) return Buffer.from(await subtle.sign(rsassa, key.sign, Buffer.from(then.signRedirect))).toString('base64');
    return '';
  };
}

function signRedirect(privateKey: KeyObject, data: string): string {
  return sign('sha512', Buffer.from(data), { key: privateKey, padding: constants.RSA_PKCS1_PADDING }).toString('base64');
}

function base64url(value: object): string {
  return Buffer.from(JSON.stringify(value)).toString('base64url');
}

function publicSpki(pem: string): string {
  return createPublicKey(pem).export({ format: 'der', type: 'spki' }).toString('base64');
}
