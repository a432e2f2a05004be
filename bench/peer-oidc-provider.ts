// The peer: panva's oidc-provider 8 serving client_credentials, on as many worker
// processes as Keygate gets, so that both use every core. By default RS256 JWT access
// tokens from its in-memory adapter (one RSA signature per request, no storage); with
// PEER_REDIS_URL, opaque access tokens kept in Redis through an adapter written from its
// adapter interface: the peer that keeps what it issues, as its users commonly run it.
import cluster from 'node:cluster';
import { generateKeyPairSync } from 'node:crypto';
import { Redis } from 'ioredis';
import Provider from 'oidc-provider';

const redisUrl = process.env.PEER_REDIS_URL;
const redisPrefix = process.env.PEER_REDIS_PREFIX ?? 'peer';

/** oidc-provider's adapter interface over Redis: one key per model instance, expiring with it. */
function redisAdapter(redis: Redis) {
  return class RedisAdapter {
    constructor(readonly name: string) {}
    #key(id: string) {
      return `${redisPrefix}:${this.name}:${id}`;
    }
    async upsert(id: string, payload: Record<string, unknown>, expiresIn: number) {
      const multi = redis.multi().set(this.#key(id), JSON.stringify(payload), 'EX', Math.max(1, expiresIn));
      if (typeof payload.grantId === 'string') multi.rpush(`${redisPrefix}:grant:${payload.grantId}`, this.#key(id)).expire(`${redisPrefix}:grant:${payload.grantId}`, Math.max(1, expiresIn));
      if (typeof payload.uid === 'string') multi.set(`${redisPrefix}:uid:${payload.uid}`, id, 'EX', Math.max(1, expiresIn));
      if (typeof payload.userCode === 'string') multi.set(`${redisPrefix}:userCode:${payload.userCode}`, id, 'EX', Math.max(1, expiresIn));
      await multi.exec();
    }
    async find(id: string) {
      const found = await redis.get(this.#key(id));
      return found ? JSON.parse(found) : undefined;
    }
    async findByUid(uid: string) {
      const id = await redis.get(`${redisPrefix}:uid:${uid}`);
      return id ? this.find(id) : undefined;
    }
    async findByUserCode(userCode: string) {
      const id = await redis.get(`${redisPrefix}:userCode:${userCode}`);
      return id ? this.find(id) : undefined;
    }
    async consume(id: string) {
      const found = await this.find(id);
      if (!found) return;
      const ttl = await redis.ttl(this.#key(id));
      await redis.set(this.#key(id), JSON.stringify({ ...found, consumed: Math.floor(Date.now() / 1000) }), 'EX', Math.max(1, ttl));
    }
    async destroy(id: string) {
      await redis.del(this.#key(id));
    }
    async revokeByGrantId(grantId: string) {
      const keys = await redis.lrange(`${redisPrefix}:grant:${grantId}`, 0, -1);
      await redis.del(...keys, `${redisPrefix}:grant:${grantId}`);
    }
  };
}

const port = Number(process.env.PORT);
const workers = Number(process.env.WORKERS ?? 1);

if (cluster.isPrimary && workers > 1) {
  const { privateKey } = generateKeyPairSync('rsa', { modulusLength: 2048 });
  const jwk = JSON.stringify(privateKey.export({ format: 'jwk' }));
  let listening = 0;
  cluster.on('listening', () => {
    if (++listening === workers) console.log('peer listening');
  });
  for (let i = 0; i < workers; i++) cluster.fork({ PEER_JWK: jwk });
} else {
  const jwk = process.env.PEER_JWK ? JSON.parse(process.env.PEER_JWK) : generateKeyPairSync('rsa', { modulusLength: 2048 }).privateKey.export({ format: 'jwk' });
  const provider = new Provider(`http://127.0.0.1:${port}`, {
    ...(redisUrl ? { adapter: redisAdapter(new Redis(redisUrl)) } : {}),
    clients: [{
      client_id: 'bench',
      client_secret: 'bench-secret-bench-secret-bench-secret',
      grant_types: ['client_credentials'],
      redirect_uris: [],
      response_types: [],
      token_endpoint_auth_method: 'client_secret_basic',
    }],
    jwks: { keys: [{ ...jwk, kid: 'bench', alg: 'RS256', use: 'sig' }] },
    scopes: ['api'],
    features: {
      devInteractions: { enabled: false },
      clientCredentials: { enabled: true },
      resourceIndicators: {
        enabled: true,
        defaultResource: () => 'urn:bench:api',
        useGrantedResource: () => true,
        // A JWT is not stored by oidc-provider: a peer that keeps its tokens issues opaque ones.
        getResourceServerInfo: () => (redisUrl ? { scope: 'api', accessTokenFormat: 'opaque' } : { scope: 'api', accessTokenFormat: 'jwt', jwt: { sign: { alg: 'RS256' } } }),
      },
    },
  });
  provider.listen(port, '127.0.0.1', () => {
    if (!cluster.isWorker) console.log('peer listening');
  });
}
