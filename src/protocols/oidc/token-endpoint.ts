import type { App } from '../../domain/apps/app.js';
import type { RequestActor } from '../../domain/audit/audit-log.js';
import type { FieldCode } from '../../domain/consent/fields.js';
import { isFieldCode } from '../../domain/consent/fields.js';
import { KeygateError } from '../../domain/errors.js';
import type { SigningKeys } from '../../domain/signing/signing-keys.js';
import type { IssuedTokens, TokenService } from '../../domain/tokens/token-service.js';
import { parseOidcCode } from './authorization-response.js';
import { claimsOf, SCOPE_FIELDS } from './claims.js';
import { formParam as field, OAuthError, oauthErrorOf } from './errors.js';
import { oidcRequestParams } from './request-params.js';
import { formatAccessToken, ID_TOKEN_PURPOSE, INTROSPECTION_PURPOSE, parseAccessToken, signIdToken, USERINFO_PURPOSE } from './tokens.js';

/** A token endpoint answer (RFC 6749 §5.1, OpenID Connect Core §3.1.3.3). */
export interface TokenResponse {
  readonly access_token: string;
  readonly token_type: 'Bearer';
  readonly expires_in: number;
  readonly id_token: string;
  readonly scope: string;
  readonly refresh_token?: string;
}

/** The scope string of what was granted: the scope values whose fields the token carries. */
function grantedScope(fields: readonly FieldCode[], offlineAccess: boolean): string {
  const values = ['openid', ...Object.entries(SCOPE_FIELDS).filter(([, asked]) => asked.some((f) => fields.includes(f))).map(([scope]) => scope)];
  if (offlineAccess) values.push('offline_access');
  return values.join(' ');
}

/** A domain refusal in OAuth's words; anything else goes on as it is. */
async function inOAuthTerms<T>(work: () => Promise<T>): Promise<T> {
  try {
    return await work();
  } catch (error) {
    if (error instanceof KeygateError) throw oauthErrorOf(error.code) ?? error;
    throw error;
  }
}

/**
 * The token and userinfo endpoints' semantics over the core: codes and refresh tokens
 * are the core's, bound to the request the OpenID Connect way; the ID token and userinfo
 * say only what the person granted, and every claim they release is a field read
 * audited in the person's zone.
 */
export class OidcTokenEndpoint {
  constructor(private readonly options: {
    readonly issuer: string;
    readonly tokens: TokenService;
    readonly signingKeys: SigningKeys;
  }) {}

  /** Answers `grant_type=authorization_code` or `refresh_token` for an authenticated client. */
  async grant(app: App, form: Readonly<Record<string, unknown>>, actor: RequestActor): Promise<TokenResponse> {
    const grantType = field(form, 'grant_type');
    if (grantType === 'authorization_code') return this.#exchangeCode(app, form, actor);
    if (grantType === 'refresh_token') return this.#refresh(app, form, actor);
    if (grantType === null) throw new OAuthError('invalid_request', 'grant_type is required.');
    throw new OAuthError('unsupported_grant_type', 'Only authorization_code and refresh_token are supported.');
  }

  async #exchangeCode(app: App, form: Readonly<Record<string, unknown>>, actor: RequestActor): Promise<TokenResponse> {
    const rawCode = field(form, 'code');
    if (rawCode === null) throw new OAuthError('invalid_request', 'code is required.');
    const redirectUri = field(form, 'redirect_uri');
    if (redirectUri === null) throw new OAuthError('invalid_request', 'redirect_uri is required.');
    const codeVerifier = field(form, 'code_verifier');
    const code = parseOidcCode(rawCode);
    if (!code) throw oauthErrorOf('invalid_code')!;
    const issued = await inOAuthTerms(() => this.options.tokens.exchangeCode(app, {
      binding: { protocol: 'oidc', redirectUri }, connectId: code.connectId, authCode: code.code, codeVerifier,
    }, actor));
    const params = oidcRequestParams(issued.request.protocolParams);
    return this.#answer(app, issued, { nonce: params.nonce, offlineAccess: params.offlineAccess, idTokenFields: params.idTokenFields }, actor);
  }

  async #refresh(app: App, form: Readonly<Record<string, unknown>>, actor: RequestActor): Promise<TokenResponse> {
    const refreshToken = field(form, 'refresh_token');
    if (refreshToken === null) throw new OAuthError('invalid_request', 'refresh_token is required.');
    // A `scope` narrows what the new pair carries (RFC 6749 §6); it never adds a field.
    const scope = field(form, 'scope');
    const narrowTo = scope === null ? undefined : [...new Set(scope.split(' ').flatMap((value) => SCOPE_FIELDS[value] ?? []))];
    if (scope !== null && !scope.split(' ').includes('openid')) throw new OAuthError('invalid_scope', 'scope must include openid.');
    const issued = await inOAuthTerms(() => this.options.tokens.refresh(app, refreshToken, actor, { narrowTo }));
    // A refresh token is only ever handed out for offline_access, so its successor is too.
    return this.#answer(app, issued, { nonce: null, offlineAccess: true, idTokenFields: [] }, actor);
  }

  async #answer(app: App, issued: IssuedTokens, request: { nonce: string | null; offlineAccess: boolean; idTokenFields: readonly FieldCode[] }, actor: RequestActor): Promise<TokenResponse> {
    const accessToken = formatAccessToken(issued, app.id);
    let claims: Record<string, unknown> = {};
    const asked = request.idTokenFields.filter((f) => issued.scope.includes(f));
    if (asked.length > 0) {
      const { access, profile, emailVerified } = await inOAuthTerms(() => this.options.tokens.readProfile(app, issued, ID_TOKEN_PURPOSE, actor));
      claims = claimsOf(profile, access.fields.filter((f) => asked.includes(f)), emailVerified);
    }
    const idToken = await signIdToken(await this.options.signingKeys.signer(), {
      issuer: this.options.issuer,
      clientId: app.id,
      subject: issued.userId,
      nonce: request.nonce,
      authTime: issued.authentication.authTime,
      amr: issued.authentication.amr,
      sid: issued.authentication.sid,
      accessToken,
      issuedAt: issued.issuedAt,
      claims,
    });
    return {
      access_token: accessToken,
      token_type: 'Bearer',
      expires_in: Math.max(0, Math.round((issued.expiresAt.getTime() - issued.issuedAt.getTime()) / 1000)),
      id_token: idToken,
      scope: grantedScope(issued.scope.filter(isFieldCode), request.offlineAccess),
      ...(request.offlineAccess ? { refresh_token: issued.refreshToken } : {}),
    };
  }

  /**
   * Revocation (RFC 7009): the client gives up an access or refresh token it holds, and
   * with it the whole lineage the token belongs to. The answer is the same whether or not
   * the token existed, was the client's, or was already revoked.
   */
  async revoke(app: App, form: Readonly<Record<string, unknown>>, actor: RequestActor): Promise<void> {
    const token = field(form, 'token');
    if (token === null) throw new OAuthError('invalid_request', 'token is required.');
    const hint = field(form, 'token_type_hint');
    if (hint !== null && hint !== 'access_token' && hint !== 'refresh_token') {
      throw new OAuthError('unsupported_token_type', 'token_type_hint must be access_token or refresh_token.');
    }
    const access = parseAccessToken(token);
    if (access) {
      if (access.clientId === app.id) await this.options.tokens.revokeToken(app, { access: access.ref }, actor);
      return;
    }
    if (/^[a-z]+\.[A-Za-z0-9_-]{43}$/.test(token)) await this.options.tokens.revokeToken(app, { refreshToken: token }, actor);
  }

  /**
   * Introspection (RFC 7662) of an access token by its own client (or a resource server
   * holding its credentials): whether it is live, and what it carries now. The claims it
   * returns are those the person still grants, each an audited read (`oidc.introspection`);
   * any other token, or one of another client, is simply not active.
   */
  async introspect(app: App, form: Readonly<Record<string, unknown>>, actor: RequestActor): Promise<Record<string, unknown>> {
    const token = field(form, 'token');
    if (token === null) throw new OAuthError('invalid_request', 'token is required.');
    const access = parseAccessToken(token);
    if (!access || access.clientId !== app.id) return { active: false };
    try {
      const { access: live, profile, emailVerified } = await this.options.tokens.readProfile(app, access.ref, INTROSPECTION_PURPOSE, actor);
      return {
        active: true,
        scope: grantedScope(live.fields, false),
        client_id: app.id,
        token_type: 'Bearer',
        exp: Math.floor(live.expiresAt.getTime() / 1000),
        iat: Math.floor(live.issuedAt.getTime() / 1000),
        sub: live.userId,
        aud: app.id,
        iss: this.options.issuer,
        ...claimsOf(profile, live.fields, emailVerified),
      };
    } catch (error) {
      if (error instanceof KeygateError && error.code === 'invalid_token') return { active: false };
      throw error;
    }
  }

  /**
   * The userinfo answer (OpenID Connect Core §5.3): `sub` and the claims of every field
   * the token carries that the person still grants, each read audited under `oidc.userinfo`.
   */
  async userinfo(bearer: string, findApp: (id: string) => Promise<App | null>, actor: RequestActor): Promise<Record<string, unknown>> {
    const parsed = parseAccessToken(bearer);
    const app = parsed ? await findApp(parsed.clientId) : null;
    if (!parsed || !app) throw oauthErrorOf('invalid_token')!;
    const { access, profile, emailVerified } = await inOAuthTerms(() => this.options.tokens.readProfile(app, parsed.ref, USERINFO_PURPOSE, actor));
    return { sub: access.userId, ...claimsOf(profile, access.fields, emailVerified) };
  }
}
