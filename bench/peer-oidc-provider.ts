// The peer: panva's oidc-provider 8 serving client_credentials with RS256 JWT access
// tokens from its default in-memory adapter (one RSA signature per request, no storage),
// on as many worker processes as Keygate gets, so that both use every core.
import cluster from 'node:cluster';
import { generateKeyPairSync } from 'node:crypto';
import Provider from 'oidc-provider';

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
        getResourceServerInfo: () => ({ scope: 'api', accessTokenFormat: 'jwt', jwt: { sign: { alg: 'RS256' } } }),
      },
    },
  });
  provider.listen(port, '127.0.0.1', () => {
    if (!cluster.isWorker) console.log('peer listening');
  });
}
