import { z } from 'zod';
import { FIELD_CODES } from '../../domain/consent/fields.js';

/*
 * The bodies of the Ukey1 v2 API (spec, "Endpoints"), as one set of schemas: the routes
 * validate requests with them and the OpenAPI document is generated from them, so what is
 * published cannot drift from what is accepted.
 */

const requestIdSchema = z.union([
  z.string().min(1).max(128),
  // A safe integer, declared as such (not refined) so the published schema says so too.
  z.int().transform(String),
]).transform(String).pipe(z.string().min(1).max(128))
  .meta({ description: "The app's own reference for this sign-in (a string, or an integer sent as a number)." });

export const connectBody = z.object({
  request_id: requestIdSchema,
  scope: z.array(z.string().max(32)).max(24).optional().default([])
    .meta({ description: 'Field codes to ask for; `!` after a code makes it mandatory.' }),
  return_url: z.string().min(1).max(2048).meta({ description: 'Where the gateway sends the person back; must be registered for the app.' }),
});

export const tokenBody = z.object({
  request_id: requestIdSchema,
  connect_id: z.string().min(1).max(64),
  auth_code: z.string().min(1).max(256),
});

export const refreshBody = z.object({
  refresh_token: z.string().min(1).max(256),
});

export const extranetInviteBody = z.object({
  email: z.string().min(3).max(320),
  locale: z.string().max(16).optional().meta({ description: 'The language of the invitation, e.g. `en_GB` (the default).' }),
});

export const extranetRemoveBody = z.object({
  reference_id: z.string().min(1).max(64),
});

/*
 * What each endpoint answers on success. `result` repeats the HTTP status (spec, "Response
 * envelope"); the routes check their answers against these at compile time.
 */

const fieldCodes = z.array(z.string()).meta({ description: 'Field codes (spec, "Permissions").' });

export const connectResponse = z.object({
  result: z.literal(201),
  connect_id: z.uuid(),
  gateway: z.url().meta({ description: 'The gateway page to send the person to; append `signup=1` for the sign-up variant.' }),
});

export const tokenResponse = z.object({
  result: z.literal(200),
  access_token: z.string().meta({ description: "A JWT signed RS512 with the app's key pair." }),
  expiration: z.string().meta({ description: 'When the access token expires (RFC 3339, UTC).' }),
  scope: fieldCodes,
  refresh_token: z.string().meta({ description: 'Exchanged at /auth/v2/token/refresh; rotated on every use.' }),
});

export const meResponse = z.object({
  result: z.literal(200),
  scope: fieldCodes,
  user: z.object({
    id: z.string().meta({ description: "The person's ID for this app." }),
    ...Object.fromEntries(FIELD_CODES.map((field) => [field, z.string().nullable()])) as Record<(typeof FIELD_CODES)[number], z.ZodNullable<z.ZodString>>,
  }).meta({ description: 'Only the granted fields carry values.' }),
});

export const scopesResponse = z.object({
  result: z.literal(200),
  permissions: fieldCodes,
  'rejected-permissions': fieldCodes,
});

export const extranetInviteResponse = z.object({
  result: z.literal(201),
  // Never `connected`: the answer must not tell whether that person already uses the app.
  status: z.literal('email-sent'),
  reference_id: z.string(),
});

export const extranetRemoveResponse = z.object({
  result: z.literal(200),
});

/** A success body as a route builds it: `sendResult` adds `result`. */
export type ResultBody<S extends z.ZodType> = Omit<z.output<S>, 'result'>;

/** A refusal (spec, "Response envelope"): `result` is the status, `debug.code` one of `codes`. */
export const refusalBody = (status: number, codes: readonly [string, ...string[]]) => z.object({
  result: z.literal(status),
  debug: z.object({
    code: z.enum(codes),
    message: z.string().meta({ description: 'Safe to show; worded from the code, never a secret.' }),
  }),
});
