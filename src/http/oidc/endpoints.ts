import formbody from '@fastify/formbody';
import type { FastifyError, FastifyInstance, FastifyReply, FastifyRequest } from 'fastify';
import type { App } from '../../domain/apps/app.js';
import { KeygateError } from '../../domain/errors.js';
import { isAddressAllowed } from '../../domain/protection/ip.js';
import { isBrowserOriginAllowed, normaliseOrigin } from '../../domain/protection/origin.js';
import type { Services } from '../../domain/services.js';
import { isStoreUnavailable } from '../../storage/availability.js';
import { authenticateClient, readClientCredentials } from '../../protocols/oidc/client-authentication.js';
import { discoveryDocument, OIDC_PATHS } from '../../protocols/oidc/discovery.js';
import { OAuthError, oauthErrorOf } from '../../protocols/oidc/errors.js';
import { OidcTokenEndpoint } from '../../protocols/oidc/token-endpoint.js';
import { recordIfAudited } from '../api/steps.js';
import type { ClientAddress } from '../client-address.js';
import type { Clock } from '../../domain/clock.js';

export type OidcEndpointServices = Pick<Services, 'apps' | 'appDirectory' | 'appRateLimit' | 'clientAssertions' | 'metrics' | 'signingKeys' | 'tokens'>;

export interface OidcEndpointOptions {
  readonly services: OidcEndpointServices;
  readonly issuer: string;
  readonly clientAddress: ClientAddress;
  readonly clock: Clock;
}

/** Token and userinfo bodies are small forms; anything larger is not a client talking OAuth. */
const FORM_LIMIT = 16 * 1024;
const BEARER = /^Bearer ([A-Za-z0-9_\-.~+/]{1,4096}=*)$/i;

const header = (request: FastifyRequest, name: string): string | undefined => {
  const value = request.headers[name];
  return typeof value === 'string' ? value : undefined;
};

/** A request with no token at all gets a challenge without an error code (RFC 6750 §3.1). */
const NO_TOKEN = 'An access token is required in the Authorization header.';

/** RFC 6749 §3.2: the token endpoint takes a form, and nothing else. */
const isForm = (request: FastifyRequest) => /^application\/x-www-form-urlencoded\s*(;|$)/i.test(header(request, 'content-type') ?? '');

/** Answers an OAuth error as JSON (RFC 6749 §5.2, RFC 6750 §3), never cached. */
function sendOAuthError(reply: FastifyReply, error: OAuthError, challenge?: 'Basic' | 'Bearer'): FastifyReply {
  // The challenge carries fixed words only (RFC 6750 §3): never text a request could shape.
  if (challenge === 'Bearer' && (error.status === 401 || error.error === 'invalid_request')) {
    reply.header('WWW-Authenticate', error.description === NO_TOKEN ? 'Bearer realm="keygate"' : `Bearer realm="keygate", error="${error.error}"`);
  } else if (error.status === 401) reply.header('WWW-Authenticate', 'Basic realm="keygate"');
  if (error.status === 429) reply.header('Retry-After', '1');
  return reply.code(error.status).header('Cache-Control', 'no-store').header('Pragma', 'no-cache')
    .type('application/json; charset=utf-8').send({ error: error.error, error_description: error.description });
}

/**
 * The OpenID Connect endpoints that clients call directly: discovery, token and userinfo.
 * Their answers are OAuth JSON, their errors too (never a page, never a stack trace);
 * the token and userinfo answers may be read by a browser only from the client's own
 * listed origins, and every call counts against the client's rate limit and network list.
 */
export async function oidcEndpoints(server: FastifyInstance, options: OidcEndpointOptions): Promise<void> {
  const { services, issuer, clientAddress, clock } = options;
  const endpoint = new OidcTokenEndpoint({ issuer, tokens: services.tokens, signingKeys: services.signingKeys });
  const findApp = (id: string) => services.appDirectory.findApp(id);
  await server.register(formbody, { bodyLimit: FORM_LIMIT });

  server.setErrorHandler((error: FastifyError | Error, request, reply) => {
    const challenge = request.routeOptions.url === OIDC_PATHS.userinfo ? 'Bearer' : 'Basic';
    if (error instanceof OAuthError) return sendOAuthError(reply, error, challenge);
    if (error instanceof KeygateError) return sendOAuthError(reply, oauthErrorOf(error.code) ?? new OAuthError('invalid_request', 'The request was refused.'), challenge);
    if (isStoreUnavailable(error)) return sendOAuthError(reply, new OAuthError('temporarily_unavailable', 'A store is unavailable; try again shortly.', 503));
    const status = (error as FastifyError).statusCode;
    if (status === 415) return sendOAuthError(reply, new OAuthError('invalid_request', 'The body must be application/x-www-form-urlencoded.', 415));
    if (status !== undefined && status >= 400 && status < 500) return sendOAuthError(reply, new OAuthError('invalid_request', 'The request is malformed.', status));
    request.log.error({ err: error }, 'unexpected error on an OpenID Connect endpoint');
    return sendOAuthError(reply, new OAuthError('server_error', `Something went wrong on our side (request ${request.id}).`, 500));
  });

  // Provider metadata, at the OpenID Connect path and the RFC 8414 one: public, cacheable.
  const metadata = JSON.stringify(discoveryDocument(issuer));
  for (const path of [OIDC_PATHS.discovery, OIDC_PATHS.authorizationServerMetadata]) {
    server.get(path, async (_request, reply) => reply
      .header('Cache-Control', 'public, max-age=3600')
      .header('Access-Control-Allow-Origin', '*')
      .type('application/json; charset=utf-8')
      .send(metadata));
  }

  /** The client's rate limit and network list; then the browser may read the answer from a listed origin. */
  async function admit(request: FastifyRequest, reply: FastifyReply, app: App): Promise<void> {
    await services.appRateLimit.admit(app.id);
    if (app.protections.ip && !isAddressAllowed(clientAddress(request), app.ipEntries)) {
      await recordIfAudited(request, services.apps, app.id, new KeygateError('ip_not_allowed'));
      throw new KeygateError('ip_not_allowed');
    }
    const origin = header(request, 'origin');
    if (isBrowserOriginAllowed(origin, app.origins)) reply.header('Access-Control-Allow-Origin', origin!).header('Vary', 'Origin');
  }

  // A preflight names no client: it passes for an origin some client lists, and the real
  // request is then held to its own client's list.
  const preflight = (methods: string) => async (request: FastifyRequest, reply: FastifyReply) => {
    const origin = header(request, 'origin');
    if (origin === undefined || normaliseOrigin(origin) !== origin || !(await services.appDirectory.isOriginListedByAnyApp(origin))) return reply.code(204).send();
    return reply.code(204).header('Access-Control-Allow-Origin', origin).header('Vary', 'Origin')
      .header('Access-Control-Allow-Methods', methods).header('Access-Control-Allow-Headers', 'Authorization, Content-Type')
      .header('Access-Control-Max-Age', '600').send();
  };
  server.options(OIDC_PATHS.token, preflight('POST'));
  server.options(OIDC_PATHS.userinfo, preflight('GET, POST'));
  server.options(OIDC_PATHS.revocation, preflight('POST'));

  /** The client a token, revocation or introspection request comes from, authenticated and admitted. */
  async function authenticatedClient(request: FastifyRequest<{ Body: Record<string, unknown> }>, reply: FastifyReply): Promise<App> {
    if (!isForm(request)) throw new OAuthError('invalid_request', 'The body must be application/x-www-form-urlencoded.');
    const app = await authenticateClient(readClientCredentials(header(request, 'authorization'), request.body ?? {}), findApp, {
      // The issuer only: an audience of several values, or of an endpoint's URL, lets an
      // assertion meant for one server be replayed at another (the 2025 audience-injection errata).
      audiences: [issuer],
      now: clock.now(),
      recordOnce: (clientId, jti, expiresAt) => services.clientAssertions.recordOnce(clientId, jti, expiresAt),
    });
    await admit(request, reply, app);
    return app;
  }
  const sendJson = (reply: FastifyReply, body: unknown) =>
    reply.header('Cache-Control', 'no-store').header('Pragma', 'no-cache').type('application/json; charset=utf-8').send(body);

  server.post<{ Body: Record<string, unknown> }>(OIDC_PATHS.revocation, async (request, reply) => {
    const app = await authenticatedClient(request, reply);
    await endpoint.revoke(app, request.body ?? {}, { requestId: request.id });
    return reply.code(200).header('Cache-Control', 'no-store').send();
  });

  // Resource servers call this from servers, never from a browser: no CORS.
  server.post<{ Body: Record<string, unknown> }>(OIDC_PATHS.introspection, async (request, reply) => {
    const app = await authenticatedClient(request, reply);
    // RFC 7662 §2.1: the caller authenticates; a public client has nothing to authenticate with.
    if (app.publicClient) throw new OAuthError('invalid_client', 'A public client cannot introspect tokens.', 401);
    return sendJson(reply, await endpoint.introspect(app, request.body ?? {}, { requestId: request.id }));
  });

  server.post<{ Body: Record<string, unknown> }>(OIDC_PATHS.token, async (request, reply) => {
    const app = await authenticatedClient(request, reply);
    const form = request.body ?? {};
    const grant = form.grant_type === 'refresh_token' ? 'refresh_token' : 'authorization_code';
    try {
      const answer = await endpoint.grant(app, form, { requestId: request.id });
      services.metrics.tokensIssued('oidc', grant);
      return sendJson(reply, answer);
    } catch (error) {
      if (error instanceof OAuthError && error.error === 'invalid_grant') {
        await recordIfAudited(request, services.apps, app.id, new KeygateError(grant === 'refresh_token' ? 'invalid_refresh_token' : 'invalid_code'));
      }
      throw error;
    }
  });

  const userinfo = async (request: FastifyRequest, reply: FastifyReply) => {
    const authorization = header(request, 'authorization');
    if (authorization === undefined) throw new OAuthError('invalid_token', NO_TOKEN, 401);
    const bearer = BEARER.exec(authorization.trim())?.[1];
    if (!bearer) throw new OAuthError('invalid_request', 'The Authorization header is not a bearer token.', 400);
    const claims = await endpoint.userinfo(bearer, async (clientId) => {
      const app = await findApp(clientId);
      if (app) await admit(request, reply, app);
      return app;
    }, { requestId: request.id });
    return sendJson(reply, claims);
  };
  server.get(OIDC_PATHS.userinfo, userinfo);
  server.post(OIDC_PATHS.userinfo, userinfo);
}
