import { FIELD_CODES, MANDATORY_BY_DEFAULT, storedPermission, type FieldCode } from '../consent/fields.js';
import { parseIpEntry } from '../protection/ip.js';
import { normaliseOrigin } from '../protection/origin.js';
import { parseReturnUrl } from '../protection/return-url.js';

/**
 * Validation of what a developer (or the operator) enters for an app. Each check says
 * which setting is wrong and why, so a form can show the reason next to the field and
 * save nothing.
 */
export class AppSettingsError extends Error {
  override name = 'AppSettingsError';
  constructor(readonly setting: AppSetting, message: string) {
    super(message);
  }
}

export type AppSetting = 'name' | 'origins' | 'returnUrls' | 'ipEntries' | 'permissions' | 'legalBases' | 'protections' | 'graceDays' | 'owners';

const MAX_LIST_ENTRIES = 1000;
const MAX_LEGAL_BASIS = 500;

export function validateName(value: string): string {
  const name = value.trim();
  if (name.length < 1 || name.length > 100 || /[\p{Cc}\p{Cf}<>]/u.test(name)) {
    throw new AppSettingsError('name', 'The name must be 1 to 100 characters, without control characters or angle brackets.');
  }
  return name;
}

function checkListSize(setting: AppSetting, values: readonly string[]): void {
  if (values.length > MAX_LIST_ENTRIES) throw new AppSettingsError(setting, `At most ${MAX_LIST_ENTRIES} entries.`);
}

/** Origins as `scheme://host[:port]`, normalised (lower-case host, punycode, default port dropped). */
export function validateOrigins(values: readonly string[]): string[] {
  checkListSize('origins', values);
  const origins = values.map((value) => {
    const origin = normaliseOrigin(value.trim());
    if (!origin) throw new AppSettingsError('origins', `"${value.slice(0, 100)}" is not an origin: use scheme://host[:port] with http or https, no path, no trailing dot.`);
    return origin;
  });
  return [...new Set(origins)];
}

export function validateReturnUrls(values: readonly string[]): string[] {
  checkListSize('returnUrls', values);
  const urls = values.map((value) => {
    const url = parseReturnUrl(value.trim());
    if (!url) {
      throw new AppSettingsError('returnUrls', `"${value.slice(0, 100)}" is not an acceptable return URL: https (or http on localhost), no credentials, no backslashes or encoded slashes and dots.`);
    }
    if (url.hash !== '') throw new AppSettingsError('returnUrls', `"${value.slice(0, 100)}" has a #fragment; list the URL without it.`);
    return url.href;
  });
  return [...new Set(urls)];
}

export function validateIpEntries(values: readonly string[]): string[] {
  checkListSize('ipEntries', values);
  const entries = values.map((value) => {
    const parsed = parseIpEntry(value);
    if (!parsed.ok) throw new AppSettingsError('ipEntries', `"${value.slice(0, 60)}": ${parsed.reason}`);
    return parsed.entry;
  });
  return [...new Set(entries)];
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
      throw new AppSettingsError('permissions', `Making "${field}" mandatory needs the operator's approval (keygate app allow-mandatory <appId> ${field}).`);
    }
    const basis = (legalBases[field] ?? '').trim();
    if (basis.length === 0 || basis.length > MAX_LEGAL_BASIS || /[\p{Cc}<>]/u.test(basis)) {
      throw new AppSettingsError('legalBases', `Give the legal basis for requiring "${field}" (1 to ${MAX_LEGAL_BASIS} characters): people see it on the consent screen.`);
    }
    permissions.push(storedPermission(field, true));
    bases[field] = basis;
  }
  return { permissions, legalBases: bases };
}

export function validateGraceDays(value: number): number {
  if (!Number.isInteger(value) || value < 0 || value > 7) throw new AppSettingsError('graceDays', 'The grace period is 0 to 7 days.');
  return value;
}
