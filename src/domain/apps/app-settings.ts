import { createPublicKey, type JsonWebKey } from 'node:crypto';
import { FIELD_CODES, MANDATORY_BY_DEFAULT, storedPermission, type FieldCode } from '../consent/fields.js';
import { parseIpEntry } from '../protection/ip.js';
import { normaliseOrigin } from '../protection/origin.js';
import { parseRedirectUri } from '../protection/redirect-uri.js';
import { parseReturnUrl } from '../protection/return-url.js';

/**
 * Validation of what a developer (or the operator) enters for an app. Each check says
 * which setting is wrong and why, so a form can show the reason next to the field and
 * save nothing.
 */
export class AppSettingsError extends Error {
  override name = 'AppSettingsError';
  /**
   * `message` is the English sentence the CLI and the API show; `reason` and `values` say the
   * same for a page to word in its own language (`other`: a check that gave no reason yet).
   */
  constructor(
    readonly setting: AppSetting,
    message: string,
    readonly reason: AppSettingsReason = 'other',
    readonly values: Readonly<Record<string, string | number>> = {},
  ) {
    super(message);
  }
}

export type AppSetting = 'name' | 'origins' | 'returnUrls' | 'redirectUris' | 'postLogoutRedirectUris' | 'backchannelLogoutUri' | 'clientJwks' | 'ipEntries' | 'permissions' | 'legalBases' | 'protections' | 'graceDays' | 'owners';

/** Why a setting was refused, stable for the pages' catalogues (`dashboard.settings.<reason>`). */
export type AppSettingsReason =
  | 'name.invalid'
  | 'list.tooLong'
  | 'origins.invalid'
  | 'origins.required'
  | 'origins.requiredForDomain'
  | 'returnUrls.invalid'
  | 'returnUrls.fragment'
  | 'returnUrls.required'
  | 'returnUrls.requiredBack'
  | 'redirectUris.invalid'
  | 'redirectUris.required'
  | 'redirectUris.requiredBack'
  | 'clientJwks.invalid'
  | 'clientJwks.publicClient'
  | 'ipEntries.invalid'
  | 'ipEntries.requiredForIp'
  | 'permissions.needsApproval'
  | 'permissions.unknown'
  | 'legalBases.missing'
  | 'graceDays.outOfRange'
  | 'other';

const MAX_LIST_ENTRIES = 1000;
const MAX_LEGAL_BASIS = 500;

export function validateName(value: string): string {
  const name = value.trim();
  if (name.length < 1 || name.length > 100 || /[\p{Cc}\p{Cf}<>]/u.test(name)) {
    throw new AppSettingsError('name', 'The name must be 1 to 100 characters, without control characters or angle brackets.', 'name.invalid');
  }
  return name;
}

function checkListSize(setting: AppSetting, values: readonly string[]): void {
  if (values.length > MAX_LIST_ENTRIES) throw new AppSettingsError(setting, `At most ${MAX_LIST_ENTRIES} entries.`, 'list.tooLong', { max: MAX_LIST_ENTRIES });
}

/**
 * A list setting: each entry checked by `entry` (which throws the refusal, quoting the
 * entry cut to `shown`, or returns the form to keep), duplicates dropped.
 */
function validateList(setting: AppSetting, values: readonly string[], shownLength: number, entry: (value: string, shown: string) => string): string[] {
  checkListSize(setting, values);
  return [...new Set(values.map((value) => entry(value, value.slice(0, shownLength))))];
}

/** Origins as `scheme://host[:port]`, normalised (lower-case host, punycode, default port dropped). */
export function validateOrigins(values: readonly string[]): string[] {
  return validateList('origins', values, 100, (value, shown) => {
    const origin = normaliseOrigin(value.trim());
    if (origin) return origin;
    throw new AppSettingsError('origins', `"${shown}" is not an origin: use scheme://host[:port] with http or https, no path, no trailing dot.`, 'origins.invalid', { value: shown });
  });
}

export function validateReturnUrls(values: readonly string[]): string[] {
  return validateList('returnUrls', values, 100, (value, shown) => {
    const url = parseReturnUrl(value.trim());
    if (!url) {
      throw new AppSettingsError('returnUrls', `"${shown}" is not an acceptable return URL: https (or http on localhost), no credentials, no backslashes or encoded slashes and dots.`,
        'returnUrls.invalid', { value: shown });
    }
    if (url.hash !== '') throw new AppSettingsError('returnUrls', `"${shown}" has a #fragment; list the URL without it.`, 'returnUrls.fragment', { value: shown });
    return url.href;
  });
}

/**
 * OpenID Connect redirect URIs, kept as written: they are matched exactly. The same rules
 * hold for post-logout redirect URIs and the back-channel logout URI (`setting`).
 */
export function validateRedirectUris(values: readonly string[], setting: 'redirectUris' | 'postLogoutRedirectUris' | 'backchannelLogoutUri' = 'redirectUris'): string[] {
  return validateList(setting, values, 100, (value, shown) => {
    const uri = parseRedirectUri(value.trim());
    if (uri) return uri;
    throw new AppSettingsError(setting, `"${shown}" is not an acceptable redirect URI: https (or http on a loopback address), no credentials, no #fragment, no backslashes or encoded slashes and dots.`,
      'redirectUris.invalid', { value: shown });
  });
}

export function validateIpEntries(values: readonly string[]): string[] {
  return validateList('ipEntries', values, 60, (value, shown) => {
    const parsed = parseIpEntry(value);
    if (!parsed.ok) throw new AppSettingsError('ipEntries', `"${shown}": ${parsed.reason}`, 'ipEntries.invalid', { value: shown, detail: parsed.reason });
    return parsed.entry;
  });
}

export interface FieldPermissions {
  /** Field codes the app may request; `code!` where it may make the field mandatory. */
  readonly permissions: string[];
  readonly legalBases: Record<string, string>;
}

/**
 * What an app may ask for. A field may be made mandatory only with a legal basis, and
 * `email` and `image` only once the operator approved it (`approved`).
 */
export function validateFieldPermissions(
  requested: readonly FieldCode[],
  mandatory: readonly FieldCode[],
  legalBases: Partial<Record<FieldCode, string>>,
  approved: readonly string[],
): FieldPermissions {
  const permissions: string[] = [];
  const bases: Record<string, string> = {};
  for (const field of FIELD_CODES) {
    const isMandatory = mandatory.includes(field);
    if (!requested.includes(field) && !isMandatory) continue;
    permissions.push(field);
    if (!isMandatory) continue;
    if (!MANDATORY_BY_DEFAULT.includes(field) && !approved.includes(field)) {
      const command = `keygate app allow-mandatory <appId> ${field}`;
      throw new AppSettingsError('permissions', `Making "${field}" mandatory needs the operator's approval (${command}).`, 'permissions.needsApproval', { field, command });
    }
    const basis = (legalBases[field] ?? '').trim();
    if (basis.length === 0 || basis.length > MAX_LEGAL_BASIS || /[\p{Cc}<>]/u.test(basis)) {
      throw new AppSettingsError('legalBases', `Give the legal basis for requiring "${field}" (1 to ${MAX_LEGAL_BASIS} characters): people see it on the consent screen.`,
        'legalBases.missing', { field, max: MAX_LEGAL_BASIS });
    }
    permissions.push(storedPermission(field, true));
    bases[field] = basis;
  }
  return { permissions, legalBases: bases };
}

export function validateGraceDays(value: number): number {
  if (!Number.isInteger(value) || value < 0 || value > 7) throw new AppSettingsError('graceDays', 'The grace period is 0 to 7 days.', 'graceDays.outOfRange');
  return value;
}

/** The members a public JWK may have; anything else (a private part above all) is dropped or refused. */
const PUBLIC_JWK_MEMBERS = ['kty', 'kid', 'use', 'alg', 'key_ops', 'n', 'e', 'crv', 'x', 'y'] as const;
const PRIVATE_JWK_MEMBERS = ['d', 'p', 'q', 'dp', 'dq', 'qi', 'k', 'oth'];
const MAX_CLIENT_KEYS = 10;

/**
 * The JWK set a client registers for private_key_jwt, given as JSON: up to ten RSA
 * (2048 bits or more) or EC (P-256, P-384) public keys, kept with their public members
 * only. Empty: no keys. A private key, or anything that is not a usable public key, is refused.
 */
export function validateClientJwks(text: string): { keys: Array<Record<string, unknown>> } | null {
  if (text.trim() === '') return null;
  const refuse = (why: string): never => {
    throw new AppSettingsError('clientJwks', `Not a usable JWK set: ${why}`, 'clientJwks.invalid', { detail: why });
  };
  if (text.length > 64 * 1024) refuse('it is longer than 64 KiB.');
  let parsed: unknown;
  try {
    parsed = JSON.parse(text);
  } catch {
    return refuse('it is not JSON.');
  }
  const keys = (parsed as { keys?: unknown } | null)?.keys;
  if (!Array.isArray(keys) || keys.length === 0) return refuse('it needs a "keys" array with at least one key.');
  if (keys.length > MAX_CLIENT_KEYS) refuse(`it has more than ${MAX_CLIENT_KEYS} keys.`);
  return {
    keys: keys.map((key: unknown, i) => {
      if (typeof key !== 'object' || key === null || Array.isArray(key)) return refuse(`key ${i + 1} is not an object.`);
      const jwk = key as Record<string, unknown>;
      if (PRIVATE_JWK_MEMBERS.some((member) => member in jwk)) refuse(`key ${i + 1} holds a private key; register only public keys.`);
      try {
        const object = createPublicKey({ key: jwk as JsonWebKey, format: 'jwk' });
        const { modulusLength, namedCurve } = object.asymmetricKeyDetails ?? {};
        if (object.asymmetricKeyType === 'rsa' ? (modulusLength ?? 0) < 2048 : !['prime256v1', 'secp384r1'].includes(namedCurve ?? '')) {
          refuse(`key ${i + 1} is not an RSA key of 2048 bits or more, or an EC key on P-256 or P-384.`);
        }
      } catch (error) {
        if (error instanceof AppSettingsError) throw error;
        refuse(`key ${i + 1} is not a valid public key.`);
      }
      return Object.fromEntries(PUBLIC_JWK_MEMBERS.filter((m) => jwk[m] !== undefined).map((m) => [m, jwk[m]]));
    }),
  };
}
