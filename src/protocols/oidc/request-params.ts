import { isFieldCode, type FieldCode } from '../../domain/consent/fields.js';

/**
 * What an OpenID Connect request keeps in the core's pending request until it ends
 * (`ConnectRequest.protocolParams`): the values the answer and the tokens need back.
 * Nothing personal: a login hint is never kept.
 */
export interface OidcRequestParams {
  readonly state: string | null;
  readonly nonce: string | null;
  readonly offlineAccess: boolean;
  readonly idTokenFields: readonly FieldCode[];
  /** `prompt=none`: the gateway answers without showing a page. */
  readonly promptNone: boolean;
  /** Only these people (ids for the client) may be answered with a code; null: anyone. */
  readonly expectedUserIds: readonly string[] | null;
}

export const storedRequestParams = (params: OidcRequestParams): Record<string, unknown> => ({ ...params });

const stringOrNull = (value: unknown): string | null => (typeof value === 'string' ? value : null);

/** Reads back what `storedRequestParams` kept; anything malformed is taken as absent. */
export function oidcRequestParams(stored: Readonly<Record<string, unknown>>): OidcRequestParams {
  return {
    state: stringOrNull(stored.state),
    nonce: stringOrNull(stored.nonce),
    offlineAccess: stored.offlineAccess === true,
    idTokenFields: Array.isArray(stored.idTokenFields) ? stored.idTokenFields.filter(isFieldCode) : [],
    promptNone: stored.promptNone === true,
    expectedUserIds: Array.isArray(stored.expectedUserIds) ? stored.expectedUserIds.filter((v): v is string => typeof v === 'string') : null,
  };
}
