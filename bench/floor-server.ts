// The floor: a minimal Fastify server that does exactly the private-key (or argon2) work
// each Keygate endpoint does per request, and nothing else: no storage, no audit. It runs
// on as many worker processes as Keygate, so their ratio shows what our own work costs.
import argon2 from 'argon2';
import cluster from 'node:cluster';
import {
  constants, createHash, createPrivateKey, createPublicKey, generateKeyPairSync, privateDecrypt, randomBytes, randomUUID, sign, timingSafeEqual,
} from 'node:crypto';
import Fastify, { type FastifyRequest } from 'fastify';
import { jwtVerify, SignJWT } from 'jose';
import { PASSWORD_HASH_OPTIONS } from '../src/crypto/passwords.js';

const port = Number(process.env.PORT);
const workers = Number(process.env.WORKERS ?? 1);
const appId = '00000000-0000-4000-8000-00000000f100';

if (cluster.isPrimary && workers > 1) {
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
  const privateKey = createPrivateKey(pem);
  const publicKey = createPublicKey(privateKey);
  const server = Fastify({ logger: false });
  server.removeAllContentTypeParsers();
  server.addContentTypeParser('*', { parseAs: 'buffer' }, (_r, body, done) => done(null, body));

  // One RSA-OAEP decryption and a constant-time compare: the request signature.
  const verifySignature = (request: FastifyRequest, path: string) => {
    const header = request.headers['x-ukey1-signature'];
    if (typeof header !== 'string') return;
    const token = request.headers.authorization?.slice(7) ?? '';
    const digest = Buffer.from(createHash('sha512').update(appId + request.method + path).update((request.body as Buffer | undefined) ?? '').update(token).digest('hex'));
    const decrypted = privateDecrypt({ key: privateKey, padding: constants.RSA_PKCS1_OAEP_PADDING, oaepHash: 'sha1' }, Buffer.from(decodeURIComponent(header), 'base64'));
    timingSafeEqual(decrypted, digest);
  };
  const signJwt = () => new SignJWT({ user: { id: randomUUID() } }).setProtectedHeader({ alg: 'RS512' }).setAudience(appId).setExpirationTime('15m').sign(privateKey);
  const pair = async () => ({ result: 200, access_token: await signJwt(), expiration: new Date().toISOString(), scope: [], refresh_token: `eu.${randomBytes(32).toString('base64url')}` });

  server.post('/auth/v2/connect', async (request, reply) => {
    verifySignature(request, '/auth/v2/connect');
    return reply.code(201).send({ result: 201, connect_id: randomUUID(), gateway: `http://127.0.0.1:${port}/gateway/x` });
  });
  server.post('/auth/v2/token', async (request) => {
    verifySignature(request, '/auth/v2/token');
    return pair();
  });
  server.post('/auth/v2/token/refresh', async (request) => {
    verifySignature(request, '/auth/v2/token/refresh');
    return pair();
  });
  server.get('/auth/v2/me', async (request) => {
    verifySignature(request, '/auth/v2/me');
    await jwtVerify(request.headers.authorization!.slice(7), publicKey, { algorithms: ['RS512'] });
    return { result: 200, scope: [], user: { id: appId } };
  });
  server.post('/gateway/:connectId/sign-in', async (_request, reply) => {
    await argon2.verify(passwordHash, 'bench password 1234');
    return reply.code(303).header('location', '/gateway/x').send();
  });
  // Consent: the signed redirect back to the app.
  server.post('/gateway/:connectId/consent', async (_request, reply) => {
    const code = randomBytes(32).toString('base64url');
    const signature = sign('sha512', Buffer.from(appId + code), { key: privateKey, padding: constants.RSA_PKCS1_PADDING }).toString('base64');
    return reply.code(303).header('location', `https://app.example/back?_ukey1%5Bcode%5D=${code}&_ukey1%5Bsignature%5D=${encodeURIComponent(signature)}`).send();
  });
  // Hands the generator a token this server can verify.
  server.get('/bench/token', async () => ({ access_token: await signJwt() }));
  await server.listen({ port, host: '127.0.0.1' });
  if (!cluster.isWorker) console.log(JSON.stringify({ ready: true, secretKey: publicSpki(pem), appId }));
}

function publicSpki(pem: string): string {
  return createPublicKey(pem).export({ format: 'der', type: 'spki' }).toString('base64');
}
