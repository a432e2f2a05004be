import type { FastifyInstance } from 'fastify';
import type { Services } from '../../domain/services.js';
import { KEY_SET_MAX_AGE_SECONDS } from '../../domain/signing/signing-keys.js';
import { OIDC_PATHS } from '../../protocols/oidc/discovery.js';

/** Where Keygate publishes the public keys its ID tokens are signed with. */
export const JWKS_PATH = OIDC_PATHS.jwks;

export type KeySetServices = Pick<Services, 'signingKeys'>;

/**
 * The JSON Web Key Set of Keygate's signing keys (RFC 7517): the key that signs now, the
 * next one before it signs, and replaced ones until their tokens have expired. Public
 * keys only, so any origin may read it; caches may keep it for its `max-age`.
 */
export async function keySetRoutes(server: FastifyInstance, { services }: { services: KeySetServices }): Promise<void> {
  server.get(JWKS_PATH, async (_request, reply) => reply
    .header('Cache-Control', `public, max-age=${KEY_SET_MAX_AGE_SECONDS}`)
    .header('Access-Control-Allow-Origin', '*')
    .type('application/jwk-set+json; charset=utf-8')
    .send(JSON.stringify(await services.signingKeys.keySet())));
}
