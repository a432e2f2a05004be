import { SUPPORTED_CLAIMS, SUPPORTED_SCOPES } from './claims.js';
import { ACR_VALUES } from './tokens.js';

/** Where each endpoint is, below the issuer. */
export const OIDC_PATHS = {
  discovery: '/.well-known/openid-configuration',
  authorizationServerMetadata: '/.well-known/oauth-authorization-server',
  authorize: '/oidc/authorize',
  token: '/oidc/token',
  userinfo: '/oidc/userinfo',
  revocation: '/oidc/revoke',
  introspection: '/oidc/introspect',
  endSession: '/oidc/logout',
  jwks: '/oidc/jwks',
} as const;

/** Client authentication methods the token endpoint accepts. */
export const TOKEN_ENDPOINT_AUTH_METHODS = ['client_secret_basic', 'client_secret_post', 'private_key_jwt', 'none'] as const;

/**
 * The provider's metadata (OpenID Connect Discovery 1.0 §3, RFC 8414 §2): only what is
 * implemented is listed, so a client library never tries what would be refused.
 */
export function discoveryDocument(issuer: string): Record<string, unknown> {
  const at = (path: string) => `${issuer}${path}`;
  return {
    issuer,
    authorization_endpoint: at(OIDC_PATHS.authorize),
    token_endpoint: at(OIDC_PATHS.token),
    userinfo_endpoint: at(OIDC_PATHS.userinfo),
    jwks_uri: at(OIDC_PATHS.jwks),
    revocation_endpoint: at(OIDC_PATHS.revocation),
    revocation_endpoint_auth_methods_supported: [...TOKEN_ENDPOINT_AUTH_METHODS],
    introspection_endpoint: at(OIDC_PATHS.introspection),
    introspection_endpoint_auth_methods_supported: TOKEN_ENDPOINT_AUTH_METHODS.filter((method) => method !== 'none'),
    end_session_endpoint: at(OIDC_PATHS.endSession),
    backchannel_logout_supported: true,
    backchannel_logout_session_supported: true,
    frontchannel_logout_supported: false,
    scopes_supported: [...SUPPORTED_SCOPES],
    response_types_supported: ['code'],
    response_modes_supported: ['query'],
    grant_types_supported: ['authorization_code', 'refresh_token'],
    subject_types_supported: ['pairwise'],
    id_token_signing_alg_values_supported: ['RS256'],
    token_endpoint_auth_methods_supported: [...TOKEN_ENDPOINT_AUTH_METHODS],
    code_challenge_methods_supported: ['S256'],
    token_endpoint_auth_signing_alg_values_supported: ['RS256', 'PS256', 'ES256', 'ES384'],
    claims_supported: [...SUPPORTED_CLAIMS],
    claims_parameter_supported: true,
    request_parameter_supported: false,
    request_uri_parameter_supported: false,
    authorization_response_iss_parameter_supported: true,
    prompt_values_supported: ['none', 'login', 'consent'],
    claim_types_supported: ['normal'],
    acr_values_supported: [...ACR_VALUES],
    ui_locales_supported: ['en', 'cs', 'de'],
  };
}
