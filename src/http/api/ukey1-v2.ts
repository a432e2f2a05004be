import type { FastifyInstance, FastifyRequest } from 'fastify';
import { z } from 'zod';
import { FIELD_CODES } from '../../domain/consent/fields.js';
import type { Services } from '../../domain/services.js';
import type { App } from '../../domain/apps/apps-service.js';
import type { IssuedTokens } from '../../domain/tokens/token-service.js';
import { KeygateError } from '../../domain/errors.js';
import { sendError, sendResult } from './envelope.js';
import { formatExpiration, ME_PURPOSE, type Ukey1AccessTokens } from '../../protocols/ukey1/access-token.js';
import { parseScope } from '../../protocols/ukey1/scope.js';
import type { ClientAddress } from '../client-address.js';
import { admitCall, answerPreflight, parseJsonBody, recordingRefusals } from './steps.js';

export const API_BODY_LIMIT = 64 * 1024;

const requestIdSchema = z.union([
  z.string().min(1).max(128),
  z.number().refine(Number.isSafeInteger, 'must be an integer').transform(String),
]).transform(String).pipe(z.string().min(1).max(128));

const connectBody = z.object({
  request_id: requestIdSchema,
  scope: z.array(z.string().max(32)).max(24).optional().default([]),
  return_url: z.string().min(1).max(2048),
});

const tokenBody = z.object({
  request_id: requestIdSchema,
  connect_id: z.string().min(1).max(64),
  auth_code: z.string().min(1).max(256),
});

const refreshBody = z.object({
  refresh_token: z.string().min(1).max(256),
});

const extranetInviteBody = z.object({
  email: z.string().min(3).max(320),
  locale: z.string().max(16).optional(),
});

const extranetRemoveBody = z.object({
  reference_id: z.string().min(1).max(64),
});

const actorOf = (request: FastifyRequest) => ({ requestId: request.id });

/** The Ukey1 v2 API (spec, "Endpoints"). `accessTokens` signs and verifies its access tokens. */
export async function ukey1V2Api(
  server: FastifyInstance,
  { services, clientAddress, accessTokens }: { services: Services; clientAddress: ClientAddress; accessTokens: Ukey1AccessTokens },
): Promise<void> {
  const tokenResponse = async (app: App, issued: IssuedTokens) => ({
    access_token: await accessTokens.sign(app, issued),
    expiration: formatExpiration(issued.expiresAt),
    scope: issued.scope,
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
    if (!(await answerPreflight(request, reply, services.apps))) return sendError(reply, 'origin_not_allowed');
    return reply.code(204).send();
  });

  server.post('/auth/v2/connect', async (request, reply) => {
    const { app, key } = await admitCall(request, reply, services, clientAddress, '/auth/v2/connect');
    const body = parseJsonBody(request, connectBody);
    const { connectId, gateway } = await recording(request, app.id, () => services.connects.openConnect(app, {
      requestId: body.request_id,
      scope: parseScope(body.scope, app.permissions),
      returnUrl: body.return_url,
      keyId: key?.id ?? null,
    }));
    return sendResult(reply, 201, { connect_id: connectId, gateway });
  });

  server.post('/auth/v2/token', async (request, reply) => {
    const { app } = await admitCall(request, reply, services, clientAddress, '/auth/v2/token');
    const body = parseJsonBody(request, tokenBody);
    const issued = await recording(request, app.id, () => presenting('code', () => services.tokens.exchangeCode(app, {
      requestId: body.request_id,
      connectId: body.connect_id,
      authCode: body.auth_code,
    }, actorOf(request))));
    metrics.tokensIssued('ukey1', 'authorization_code');
    return sendResult(reply, 200, await tokenResponse(app, issued));
  });

  // Our extension: rotate a refresh token into a new access and refresh token.
  server.post('/auth/v2/token/refresh', async (request, reply) => {
    const { app } = await admitCall(request, reply, services, clientAddress, '/auth/v2/token/refresh');
    const body = parseJsonBody(request, refreshBody);
    const issued = await recording(request, app.id, () => presenting('token', () => services.tokens.refresh(app, body.refresh_token, actorOf(request))));
    metrics.tokensIssued('ukey1', 'refresh_token');
    return sendResult(reply, 200, await tokenResponse(app, issued));
  });

  server.get('/auth/v2/me', async (request, reply) => {
    const { app, accessToken } = await admitCall(request, reply, services, clientAddress, '/auth/v2/me', { bearerToken: true });
    if (!accessToken) throw new KeygateError('missing_token');
    const { access, profile } = await recording(request, app.id, () => presenting('token', async () => services.tokens.readProfile(app, await accessTokens.verify(app, accessToken), ME_PURPOSE, actorOf(request))));
    const user: Record<string, string | null> = { id: access.userId };
    for (const field of FIELD_CODES) user[field] = profile[field] ?? null;
    return sendResult(reply, 200, { scope: access.fields, user });
  });

  server.get('/auth/v2/system/scopes', async (request, reply) => {
    const { app, accessToken } = await admitCall(request, reply, services, clientAddress, '/auth/v2/system/scopes', { bearerToken: true });
    if (!accessToken) {
      return sendResult(reply, 200, { permissions: app.permissions, 'rejected-permissions': [] });
    }
    const access = await recording(request, app.id, () => presenting('token', async () => services.tokens.inspectToken(app, await accessTokens.verify(app, accessToken))));
    return sendResult(reply, 200, {
      permissions: access.fields,
      'rejected-permissions': access.requested.filter((f) => !access.fields.includes(f)),
    });
  });

  // Private ("extranet") apps: the app's server manages who may sign in. These are the
  // API's only calls that change the app itself (the others act for one person or one
  // sign-in), so they are the privileged ones.
  server.post('/auth/v2/extranet/users', async (request, reply) => {
    const { app } = await admitCall(request, reply, services, clientAddress, '/auth/v2/extranet/users', { privileged: true });
    const body = parseJsonBody(request, extranetInviteBody);
    const invited = await services.extranet.invite(app, body.email, body.locale);
    return sendResult(reply, 201, { status: invited.status, reference_id: invited.referenceId });
  });

  server.delete('/auth/v2/extranet/users', async (request, reply) => {
    const { app } = await admitCall(request, reply, services, clientAddress, '/auth/v2/extranet/users', { privileged: true });
    const body = parseJsonBody(request, extranetRemoveBody);
    await services.extranet.remove(app, body.reference_id);
    return sendResult(reply, 200, {});
  });
}
