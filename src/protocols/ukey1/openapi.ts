import { z } from 'zod';
import { refusalBody } from './api-schemas.js';
import { UKEY1_ERRORS, type Ukey1ErrorCode } from './errors.js';

/** One endpoint of the Ukey1 v2 API as the OpenAPI document describes it. */
export interface DocumentedEndpoint {
  readonly operationId: string;
  readonly method: 'GET' | 'POST' | 'DELETE';
  readonly path: string;
  readonly summary: string;
  /** `required`: unsigned calls are refused whatever the app's settings. */
  readonly signature: 'optional' | 'required';
  /** Whether the call carries `Authorization: Bearer <access token>`. */
  readonly bearer?: 'optional' | 'required';
  readonly body?: z.ZodType;
  readonly success: { readonly status: number; readonly description: string; readonly schema: z.ZodType };
  /** Every `debug.code` the endpoint can answer. */
  readonly refusals: readonly Ukey1ErrorCode[];
}

type JsonObject = Record<string, unknown>;

/**
 * JSON Schema draft 2020-12, the dialect of OpenAPI 3.1. A request body is described as a
 * client sends it (`input`: before defaults and transforms), an answer as we send it.
 */
function jsonSchemaOf(schema: z.ZodType, io: 'input' | 'output'): JsonObject {
  const { $schema: _dialect, ...rest } = z.toJSONSchema(schema, { target: 'draft-2020-12', io }) as JsonObject;
  return rest;
}

const json = (schema: JsonObject) => ({ 'application/json': { schema } });

/** The statuses an endpoint refuses with, each with its codes, in status order. */
export function refusalsByStatus(codes: readonly Ukey1ErrorCode[]): Map<number, Ukey1ErrorCode[]> {
  const byStatus = new Map<number, Ukey1ErrorCode[]>();
  for (const code of [...new Set(codes)]) {
    const status = UKEY1_ERRORS[code].status;
    byStatus.set(status, [...(byStatus.get(status) ?? []), code]);
  }
  return new Map([...byStatus].sort(([a], [b]) => a - b));
}

/*
 * Browsers call without a signature (the app must allow it, and list the page's origin);
 * servers sign. Each alternative of a security requirement is one way in.
 */
function securityOf(endpoint: DocumentedEndpoint): Array<Record<string, string[]>> {
  const signed: Array<Record<string, string[]>> = [{ ukey1App: [], ukey1Signature: [] }];
  if (endpoint.signature === 'optional') signed.push({ ukey1App: [] });
  if (!endpoint.bearer) return signed;
  const withToken = signed.map((way) => ({ ...way, bearerToken: [] }));
  return endpoint.bearer === 'required' ? withToken : [...withToken, ...signed];
}

function operationOf(endpoint: DocumentedEndpoint): JsonObject {
  const responses: JsonObject = {
    [endpoint.success.status]: { description: endpoint.success.description, content: json(jsonSchemaOf(endpoint.success.schema, 'output')) },
  };
  for (const [status, codes] of refusalsByStatus(endpoint.refusals)) {
    responses[status] = {
      description: `Refused: ${codes.map((code) => `\`${code}\``).join(', ')}.`,
      ...(status === 429 || status === 503 ? { headers: { 'Retry-After': { $ref: '#/components/headers/RetryAfter' } } } : {}),
      content: json(jsonSchemaOf(refusalBody(status, codes as [Ukey1ErrorCode, ...Ukey1ErrorCode[]]), 'output')),
    };
  }
  return {
    operationId: endpoint.operationId,
    summary: endpoint.summary,
    security: securityOf(endpoint),
    parameters: [{ $ref: '#/components/parameters/XOrigin' }],
    ...(endpoint.body ? { requestBody: { required: true, content: json(jsonSchemaOf(endpoint.body, 'input')) } } : {}),
    responses,
  };
}

/** The OpenAPI 3.1 document of the Ukey1 v2 API served at `publicUrl`. */
export function buildOpenApiDocument(publicUrl: string, endpoints: readonly DocumentedEndpoint[]): JsonObject {
  const paths: Record<string, JsonObject> = {};
  for (const endpoint of endpoints) {
    paths[endpoint.path] = { ...paths[endpoint.path], [endpoint.method.toLowerCase()]: operationOf(endpoint) };
  }
  return {
    openapi: '3.1.0',
    info: {
      title: 'Keygate: the Ukey1 v2 API',
      version: '2',
      description: 'Every answer is JSON whose `result` equals the HTTP status; a refusal adds `debug: { code, message }`. '
        + 'Bodies are read as JSON whatever the Content-Type says, and a signature covers them exactly as sent.',
    },
    servers: [{ url: publicUrl }],
    paths,
    components: {
      securitySchemes: {
        ukey1App: { type: 'apiKey', in: 'header', name: 'X-Ukey1-App', description: 'The App ID (a UUID).' },
        ukey1Signature: {
          type: 'apiKey',
          in: 'header',
          name: 'X-Ukey1-Signature',
          description: 'RSA-OAEP with the Secret Key over the SHA-512 hex digest of App ID + method + path + raw body + access token, base64 then URL-encoded. Sent by servers; browsers send none.',
        },
        bearerToken: { type: 'http', scheme: 'bearer', bearerFormat: 'JWT', description: 'An access token from /auth/v2/token.' },
      },
      parameters: {
        XOrigin: {
          name: 'X-Origin',
          in: 'header',
          required: false,
          description: "The app's own origin (scheme, host, port), sent with signed calls; checked against the app's listed origins under domain protection.",
          schema: { type: 'string' },
        },
      },
      headers: {
        RetryAfter: { description: 'Seconds to wait before trying again.', schema: { type: 'integer', minimum: 1 } },
      },
    },
  };
}
