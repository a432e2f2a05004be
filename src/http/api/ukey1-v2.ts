import type { FastifyInstance, FastifyReply, FastifyRequest } from 'fastify';
import { FIELD_CODES } from '../../domain/consent/fields.js';
import type { Services } from '../../domain/services.js';
import type { App } from '../../domain/apps/app.js';
import type { IssuedTokens } from '../../domain/tokens/token-service.js';
import { KeygateError } from '../../domain/errors.js';
import { sendError, sendResult } from './envelope.js';
import { formatExpiration, ME_PURPOSE, type Ukey1AccessTokens } from '../../protocols/ukey1/access-token.js';
import { parseScope } from '../../protocols/ukey1/scope.js';
import type { ClientAddress } from '../client-address.js';
import { admissionRefusals, admitCall, answerPreflight, BODY_REFUSALS, EVERY_CALL_REFUSALS, parseJsonBody, recordingRefusals, type AdmissionOptions } from './steps.js';
import {
  connectBody, connectResponse, extranetInviteBody, extranetInviteResponse, extranetRemoveBody, extranetRemoveResponse,
  meResponse, refreshBody, scopesResponse, tokenBody, tokenResponse, type ResultBody,
} from '../../protocols/ukey1/api-schemas.js';
import type { Ukey1ErrorCode } from '../../protocols/ukey1/errors.js';
import type { DocumentedEndpoint } from '../../protocols/ukey1/openapi.js';

export const API_BODY_LIMIT = 64 * 1024;

/** An endpoint: its route and admission steps and, for the OpenAPI document, what it answers. */
interface Ukey1Endpoint extends Omit<DocumentedEndpoint, 'signature' | 'refusals'> {
  /** Changes the app's state (admission step 6). */
  readonly privileged?: boolean;
  /** The refusals of the endpoint's own work, beyond those of admission and of reading a body. */
  readonly refuses: readonly Ukey1ErrorCode[];
}

/**
 * The Ukey1 v2 endpoints (spec, "Endpoints"): each route below is registered from its
 * entry, and the OpenAPI document (`documentedEndpoints`) is generated from the same
 * entries, so neither a route nor a refusal can go unpublished.
 */
export const UKEY1_ENDPOINTS = {
  connect: {
    operationId: 'connect',
    method: 'POST',
    path: '/auth/v2/connect',
    summary: 'Open a sign-in request and get the gateway page to send the person to.',
    body: connectBody,
    success: { status: 201, description: 'The sign-in request is open.', schema: connectResponse },
    refuses: ['invalid_scope', 'return_url_not_allowed'],
  },
  token: {
    operationId: 'exchangeCode',
    method: 'POST',
    path: '/auth/v2/token',
    summary: 'Exchange the authorization code from the return URL for tokens (once: a second use revokes them).',
    body: tokenBody,
    success: { status: 200, description: 'Tokens for the person who signed in.', schema: tokenResponse },
    refuses: ['invalid_code', 'code_already_used'],
  },
  refresh: {
    operationId: 'refreshToken',
    method: 'POST',
    path: '/auth/v2/token/refresh',
    summary: 'Rotate a refresh token into a new access and refresh token (Keygate extension).',
    body: refreshBody,
    success: { status: 200, description: 'New tokens; the refresh token sent is spent.', schema: tokenResponse },
    refuses: ['invalid_refresh_token', 'refresh_token_reused'],
  },
  me: {
    operationId: 'readMe',
    method: 'GET',
    path: '/auth/v2/me',
    summary: 'Read the fields the person granted (each read is audited).',
    bearer: 'required',
    success: { status: 200, description: 'The person, with only the granted fields filled.', schema: meResponse },
    refuses: ['missing_token', 'invalid_token'],
  },
  scopes: {
    operationId: 'readScopes',
    method: 'GET',
    path: '/auth/v2/system/scopes',
    summary: 'What the app may ask for or, with an access token, what the person granted and refused.',
    bearer: 'optional',
    success: { status: 200, description: 'Field codes (with `!` where mandatory is allowed).', schema: scopesResponse },
    refuses: ['invalid_token'],
  },
  inviteExtranetUser: {
    operationId: 'inviteExtranetUser',
    method: 'POST',
    path: '/auth/v2/extranet/users',
    summary: "Private apps: add a person to the app's list and email them an invitation.",
    privileged: true,
    body: extranetInviteBody,
    success: { status: 201, description: 'The person is listed.', schema: extranetInviteResponse },
    refuses: ['not_private_app', 'invalid_request', 'too_many_requests', 'mail_unavailable'],
  },
  removeExtranetUser: {
    operationId: 'removeExtranetUser',
    method: 'DELETE',
    path: '/auth/v2/extranet/users',
    summary: "Private apps: remove a person from the app's list.",
    privileged: true,
    body: extranetRemoveBody,
    success: { status: 200, description: 'The person is no longer listed.', schema: extranetRemoveResponse },
    refuses: ['not_private_app', 'unknown_reference'],
  },
} as const satisfies Record<string, Ukey1Endpoint>;

const admissionOf = (endpoint: Ukey1Endpoint): AdmissionOptions => ({ bearerToken: endpoint.bearer !== undefined, privileged: endpoint.privileged === true });

/** The endpoints as the OpenAPI document describes them, with every refusal each can answer. */
export function documentedEndpoints(): DocumentedEndpoint[] {
  return Object.values(UKEY1_ENDPOINTS).map((endpoint: Ukey1Endpoint) => {
    const { privileged, refuses, ...described } = endpoint;
    return {
      ...described,
      signature: privileged ? 'required' : 'optional',
      refusals: [...new Set([
        ...EVERY_CALL_REFUSALS,
        ...admissionRefusals(admissionOf(endpoint)),
        ...(endpoint.body ? BODY_REFUSALS : []),
        ...refuses,
      ])],
    };
  });
}

const actorOf = (request: FastifyRequest) => ({ requestId: request.id });

/** What the Ukey1 API uses: apps, their limits and lists, the pending requests and the tokens. */
export type Ukey1ApiServices = Pick<Services, 'apps' | 'appDirectory' | 'appRateLimit' | 'connects' | 'extranet' | 'metrics' | 'tokens'>;

/** The Ukey1 v2 API (spec, "Endpoints"). `accessTokens` signs and verifies its access tokens. */
export async function ukey1V2Api(
  server: FastifyInstance,
  { services, clientAddress, accessTokens }: { services: Ukey1ApiServices; clientAddress: ClientAddress; accessTokens: Ukey1AccessTokens },
): Promise<void> {
  const tokenAnswer = async (app: App, issued: IssuedTokens): Promise<ResultBody<typeof tokenResponse>> => ({
    access_token: await accessTokens.sign(app, issued),
    expiration: formatExpiration(issued.expiresAt),
    scope: [...issued.scope],
    refresh_token: issued.refreshToken,
  });
  const recording = <T>(request: FastifyRequest, appId: string, work: () => Promise<T>) => recordingRefusals(request, services.apps, appId, work);
  const { metrics } = services;
  /**
   * Runs `work` on a code or token an app presented and counts its refusal by code. A
   * second use of a code or refresh token has also revoked everything descending from it
   * (see TokenService), which is counted too.
   */
  const presenting = async <T>(presented: 'code' | 'token', work: () => Promise<T>): Promise<T> => {
    try {
      return await work();
    } catch (error) {
      if (error instanceof KeygateError) {
        if (presented === 'code') metrics.codeRefused('ukey1', error.code);
        else metrics.tokenRefused('ukey1', error.code);
        if (error.code === 'code_already_used') metrics.tokensRevoked('ukey1', 'code_replayed');
        if (error.code === 'refresh_token_reused') metrics.tokensRevoked('ukey1', 'refresh_token_reused');
      }
      throw error;
    }
  };

  // Bodies are kept as raw bytes: the request signature covers them exactly as sent,
  // and JSON is parsed from them whatever the Content-Type claims.
  server.removeAllContentTypeParsers();
  server.addContentTypeParser('*', { parseAs: 'buffer', bodyLimit: API_BODY_LIMIT }, (_request, body, done) => done(null, body));

  server.options('/auth/v2/*', async (request, reply) => {
    if (!(await answerPreflight(request, reply, services.appDirectory))) return sendError(reply, 'origin_not_allowed');
    return reply.code(204).send();
  });

  /** Registers `endpoint`'s route; `admit` runs its admission steps (see steps.ts). */
  const route = (endpoint: Ukey1Endpoint, handler: (request: FastifyRequest, reply: FastifyReply, admit: () => ReturnType<typeof admitCall>) => Promise<FastifyReply>) =>
    server.route({
      method: endpoint.method,
      url: endpoint.path,
      handler: (request, reply) => handler(request, reply, () => admitCall(request, reply, services, clientAddress, endpoint.path, admissionOf(endpoint))),
    });

  route(UKEY1_ENDPOINTS.connect, async (request, reply, admit) => {
    const { app, key } = await admit();
    const body = parseJsonBody(request, connectBody);
    const { connectId, gateway } = await recording(request, app.id, () => services.connects.openConnect(app, {
      requestId: body.request_id,
      scope: parseScope(body.scope, app.permissions),
      returnUrl: body.return_url,
      keyId: key?.id ?? null,
    }));
    return sendResult(reply, 201, { connect_id: connectId, gateway } satisfies ResultBody<typeof connectResponse>);
  });

  route(UKEY1_ENDPOINTS.token, async (request, reply, admit) => {
    const { app } = await admit();
    const body = parseJsonBody(request, tokenBody);
    const issued = await recording(request, app.id, () => presenting('code', () => services.tokens.exchangeCode(app, {
      binding: { protocol: 'ukey1', requestId: body.request_id },
      connectId: body.connect_id,
      authCode: body.auth_code,
    }, actorOf(request))));
    metrics.tokensIssued('ukey1', 'authorization_code');
    return sendResult(reply, 200, await tokenAnswer(app, issued));
  });

  // Our extension: rotate a refresh token into a new access and refresh token.
  route(UKEY1_ENDPOINTS.refresh, async (request, reply, admit) => {
    const { app } = await admit();
    const body = parseJsonBody(request, refreshBody);
    const issued = await recording(request, app.id, () => presenting('token', () => services.tokens.refresh(app, body.refresh_token, actorOf(request))));
    metrics.tokensIssued('ukey1', 'refresh_token');
    return sendResult(reply, 200, await tokenAnswer(app, issued));
  });

  route(UKEY1_ENDPOINTS.me, async (request, reply, admit) => {
    const { app, accessToken } = await admit();
    if (!accessToken) throw new KeygateError('missing_token');
    const { access, profile } = await recording(request, app.id, () => presenting('token', async () => services.tokens.readProfile(app, await accessTokens.verify(app, accessToken), ME_PURPOSE, actorOf(request))));
    const user: Record<string, string | null> = { id: access.userId };
    for (const field of FIELD_CODES) user[field] = profile[field] ?? null;
    return sendResult(reply, 200, { scope: [...access.fields], user: user as ResultBody<typeof meResponse>['user'] } satisfies ResultBody<typeof meResponse>);
  });

  route(UKEY1_ENDPOINTS.scopes, async (request, reply, admit) => {
    const { app, accessToken } = await admit();
    if (!accessToken) {
      return sendResult(reply, 200, { permissions: [...app.permissions], 'rejected-permissions': [] } satisfies ResultBody<typeof scopesResponse>);
    }
    const access = await recording(request, app.id, () => presenting('token', async () => services.tokens.inspectToken(app, await accessTokens.verify(app, accessToken))));
    return sendResult(reply, 200, {
      permissions: [...access.fields],
      'rejected-permissions': access.requested.filter((f) => !access.fields.includes(f)),
    } satisfies ResultBody<typeof scopesResponse>);
  });

  // Private ("extranet") apps: the app's server manages who may sign in. These are the
  // API's only calls that change the app itself (the others act for one person or one
  // sign-in), so they are the privileged ones.
  route(UKEY1_ENDPOINTS.inviteExtranetUser, async (request, reply, admit) => {
    const { app } = await admit();
    const body = parseJsonBody(request, extranetInviteBody);
    const invited = await services.extranet.invite(app, body.email, body.locale);
    return sendResult(reply, 201, { status: invited.status, reference_id: invited.referenceId } satisfies ResultBody<typeof extranetInviteResponse>);
  });

  route(UKEY1_ENDPOINTS.removeExtranetUser, async (request, reply, admit) => {
    const { app } = await admit();
    const body = parseJsonBody(request, extranetRemoveBody);
    await services.extranet.remove(app, body.reference_id);
    return sendResult(reply, 200, {} satisfies ResultBody<typeof extranetRemoveResponse>);
  });
}
