import { constants, createHash, createPublicKey, publicEncrypt, verify } from 'node:crypto';
import type { FastifyInstance } from 'fastify';

/**
 * A server-side Ukey1 v2 client written from the spec alone, as the PHP and Node SDKs
 * behave: it signs every request with the Secret Key and sends `X-Origin`.
 */

/** The Secret Key wrapped back into PEM, as the SDKs do (64-character lines). */
export function secretKeyPem(secretKey: string): string {
  const lines = secretKey.match(/.{1,64}/g)!.join('\n');
  return `-----BEGIN PUBLIC KEY-----\n${lines}\n-----END PUBLIC KEY-----\n`;
}

export function signRequest(secretKey: string, parts: { appId: string; method: string; path: string; rawBody?: string | Buffer; accessToken?: string }): string {
  const digest = createHash('sha512')
    .update(parts.appId + parts.method + parts.path)
    .update(parts.rawBody ?? '')
    .update(parts.accessToken ?? '')
    .digest('hex');
  const encrypted = publicEncrypt({ key: secretKeyPem(secretKey), padding: constants.RSA_PKCS1_OAEP_PADDING, oaepHash: 'sha1' }, Buffer.from(digest));
  return encodeURIComponent(encrypted.toString('base64'));
}

export function isValidRedirectSignature(secretKey: string, appId: string, params: URLSearchParams): boolean {
  const get = (name: string) => params.get(`_ukey1[${name}]`) ?? '';
  const data = appId + get('request_id') + get('connect_id') + get('code') + get('result');
  return verify('sha512', Buffer.from(data), { key: createPublicKey(secretKeyPem(secretKey)), padding: constants.RSA_PKCS1_PADDING }, Buffer.from(get('signature'), 'base64'));
}

export interface ApiResponse {
  status: number;
  headers: Record<string, unknown>;
  body: any;
}

export class Ukey1ServerClient {
  /**
   * `target`: an in-process server, or a function giving the base URL of the node to call
   * next. `remoteAddress`: the address an in-process server sees the calls come from.
   */
  constructor(
    private readonly target: FastifyInstance | (() => string),
    readonly appId: string,
    readonly secretKey: string,
    readonly origin: string,
    readonly remoteAddress?: string,
  ) {}

  async call(method: 'GET' | 'POST' | 'DELETE', path: string, body?: unknown, accessToken?: string, extraHeaders: Record<string, string> = {}): Promise<ApiResponse> {
    const rawBody = body === undefined ? undefined : typeof body === 'string' ? body : JSON.stringify(body);
    const headers: Record<string, string> = {
      'x-ukey1-app': this.appId,
      'x-ukey1-signature': signRequest(this.secretKey, { appId: this.appId, method, path, rawBody, accessToken }),
      'x-origin': this.origin,
      ...extraHeaders,
    };
    if (rawBody !== undefined) headers['content-type'] = 'application/json';
    if (accessToken) headers.authorization = `Bearer ${accessToken}`;
    if (typeof this.target === 'function') {
      const response = await fetch(`${this.target()}${path}`, { method, headers, body: rawBody });
      return { status: response.status, headers: Object.fromEntries(response.headers), body: await response.json() };
    }
    const response = await this.target.inject({ method, url: path, headers, payload: rawBody, remoteAddress: this.remoteAddress });
    return { status: response.statusCode, headers: response.headers, body: response.json() };
  }

  connect(body: { request_id: string; scope: string[]; return_url: string }) {
    return this.call('POST', '/auth/v2/connect', body);
  }

  token(body: { request_id: string; connect_id: string; auth_code: string }) {
    return this.call('POST', '/auth/v2/token', body);
  }

  me(accessToken: string) {
    return this.call('GET', '/auth/v2/me', undefined, accessToken);
  }

  scopes(accessToken?: string) {
    return this.call('GET', '/auth/v2/system/scopes', undefined, accessToken);
  }
}
