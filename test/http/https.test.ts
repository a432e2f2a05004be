import assert from 'node:assert/strict';
import { randomBytes } from 'node:crypto';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import http, { type IncomingHttpHeaders } from 'node:http';
import https from 'node:https';
import os from 'node:os';
import path from 'node:path';
import type { TLSSocket } from 'node:tls';
import { after, before, describe, it } from 'node:test';
import { freePort } from '../support/ports.js';
import { keygateCli, startNode, type KeygateNode } from '../support/node-process.js';
import { startTestKeygate, type TestKeygate } from '../support/test-keygate.js';
import { Ukey1ServerClient } from '../support/ukey1-client.js';

// Test-only certificate and key for localhost / 127.0.0.1 (see test/fixtures/tls/README.md).
const CERT_FILE = path.resolve('test/fixtures/tls/localhost-cert.pem');
const KEY_FILE = path.resolve('test/fixtures/tls/localhost-key.pem');
const CA = readFileSync(CERT_FILE);
const TLS_ENV = { KEYGATE_TLS_CERT: CERT_FILE, KEYGATE_TLS_KEY: KEY_FILE };
const HSTS = 'max-age=63072000; includeSubDomains';

interface Answer {
  status: number;
  headers: IncomingHttpHeaders;
  body: string;
  httpVersion: string;
  /** The negotiated TLS version, over HTTPS. */
  tlsVersion?: string | null;
}

/**
 * One request on a fresh connection. Over HTTPS the server's certificate is verified
 * against the test certificate only (`ca`), never with verification turned off.
 */
function request(url: string, options: { method?: string; body?: string; headers?: Record<string, string>; ca?: Buffer | null } = {}): Promise<Answer> {
  const target = new URL(url);
  const secure = target.protocol === 'https:';
  return new Promise((resolve, reject) => {
    const callback = (response: http.IncomingMessage) => {
      const chunks: Buffer[] = [];
      response.on('data', (chunk: Buffer) => chunks.push(chunk));
      response.on('error', reject);
      response.on('end', () => resolve({
        status: response.statusCode!,
        headers: response.headers,
        body: Buffer.concat(chunks).toString('utf8'),
        httpVersion: response.httpVersion,
        tlsVersion: secure ? (response.socket as TLSSocket).getProtocol() : undefined,
      }));
    };
    const common = { method: options.method ?? 'GET', headers: options.headers, agent: false as const };
    const outgoing = secure
      ? https.request(target, { ...common, ...(options.ca === null ? {} : { ca: options.ca ?? CA }) }, callback)
      : http.request(target, common, callback);
    outgoing.on('error', reject);
    outgoing.end(options.body);
  });
}

const randomKey = () => randomBytes(32).toString('base64');
/** What production needs besides its URL: the keys, and an SMTP server (nothing is mailed here). */
const productionKeys = () => ({
  KEYGATE_SMTP_URL: 'smtp://127.0.0.1:2525',
  KEYGATE_MASTER_KEY_CONTROL: randomKey(),
  KEYGATE_MASTER_KEY_EU: randomKey(),
  KEYGATE_MASTER_KEY_US: randomKey(),
  KEYGATE_INDEX_KEY_EU: randomKey(),
  KEYGATE_INDEX_KEY_US: randomKey(),
  KEYGATE_INDEX_KEY_CONTROL: randomKey(),
});
/** A clear one-line refusal, not a crash with a stack trace. */
const assertCleanRefusal = (result: { status: number | null; stderr: string }, pattern: RegExp) => {
  assert.equal(result.status, 1, result.stderr);
  assert.match(result.stderr, pattern);
  assert.doesNotMatch(result.stderr, /^\s+at /m, 'no stack trace');
};

describe('built-in TLS, in process', () => {
  let keygate: TestKeygate;
  let base: string;

  before(async () => {
    const port = await freePort();
    keygate = await startTestKeygate({ env: { ...TLS_ENV, KEYGATE_PUBLIC_URL: `https://localhost:${port}`, PORT: String(port) } });
    await keygate.http.listen({ host: '127.0.0.1', port });
    base = `https://127.0.0.1:${port}`;
  });

  after(async () => {
    await keygate?.close();
  });

  it('answers over HTTPS, HTTP/1.1, with a certificate the test CA verifies', async () => {
    const answer = await request(`${base}/healthz`);
    assert.equal(answer.status, 200);
    assert.deepEqual(JSON.parse(answer.body), { status: 'ok' });
    assert.equal(answer.httpVersion, '1.1');
    assert.match(answer.tlsVersion ?? '', /^TLSv1\.[23]$/);
    // Without the test certificate as a trust anchor, the default verification refuses it.
    await assert.rejects(request(`${base}/healthz`, { ca: null }), /self[- ]signed|certificate/i);
  });

  it('refuses plain HTTP on the TLS port', async () => {
    await assert.rejects(request(`${base.replace('https:', 'http:')}/healthz`));
  });

  it('sends HSTS and the standard security headers on every HTTPS answer: JSON, API refusals, pages, 404s', async () => {
    for (const target of ['/healthz', '/auth/v2/me', '/', '/dashboard', '/no/such/page', '/auth/v2/nothing-here']) {
      const answer = await request(`${base}${target}`);
      assert.equal(answer.headers['strict-transport-security'], HSTS, target);
      assert.equal(answer.headers['x-content-type-options'], 'nosniff', target);
      assert.equal(answer.headers['x-frame-options'], 'DENY', target);
      assert.equal(answer.headers['referrer-policy'], 'no-referrer', target);
      assert.ok(answer.headers['content-security-policy'], `${target} has a CSP`);
      assert.match(String(answer.headers['content-security-policy']), /frame-ancestors 'none'/, target);
      assert.doesNotMatch(String(answer.headers['content-security-policy']), /unsafe-inline|unsafe-eval/, target);
      assert.equal(answer.headers['x-powered-by'], undefined, target);
    }
  });

  it('gives JSON answers the strict default CSP, and keeps each page its own CSP and no-store', async () => {
    const json = await request(`${base}/healthz`);
    assert.equal(json.headers['content-security-policy'], "default-src 'none'; frame-ancestors 'none'");

    const page = await request(`${base}/no/such/page`);
    assert.equal(page.status, 404);
    assert.match(String(page.headers['content-type']), /^text\/html/);
    const pageCsp = String(page.headers['content-security-policy']);
    assert.notEqual(pageCsp, json.headers['content-security-policy'], 'the page keeps the policy sendPage gave it');
    assert.match(pageCsp, /default-src 'none'/);
    assert.match(pageCsp, /style-src 'self'/);
    assert.doesNotMatch(pageCsp, /unsafe-inline/);
    assert.equal(page.headers['cache-control'], 'no-store');
  });

  it('serves a gateway page over HTTPS with its own CSP, without unsafe-inline', async () => {
    const { appId, secretKey } = await keygate.services.apps.createApp({
      name: 'TLS Shop', origins: ['https://shop.example.org'], returnUrls: ['https://shop.example.org/back/'],
    });
    const client = new Ukey1ServerClient(keygate.http, appId, secretKey, 'https://shop.example.org');
    const connect = await client.call('POST', '/auth/v2/connect', { request_id: 'tls-1', scope: ['firstname'], return_url: 'https://shop.example.org/back/' });
    assert.equal(connect.status, 201, JSON.stringify(connect.body));
    const gateway = new URL(connect.body.gateway as string);
    assert.equal(gateway.protocol, 'https:', 'the gateway link uses the public https URL');

    const page = await request(`${base}${gateway.pathname}${gateway.search}`);
    assert.equal(page.status, 200);
    assert.match(page.body, /TLS Shop/);
    const csp = String(page.headers['content-security-policy']);
    assert.match(csp, /default-src 'none'/);
    assert.match(csp, /form-action 'self' https:\/\/shop\.example\.org/);
    assert.doesNotMatch(csp, /unsafe-inline/);
    assert.equal(page.headers['strict-transport-security'], HSTS);
    assert.equal(page.headers['cache-control'], 'no-store');
    assert.equal(page.headers['referrer-policy'], 'no-referrer');
  });
});

describe('HSTS follows the public URL', () => {
  it('is absent on plain HTTP in development, while the other headers stay', async () => {
    const keygate = await startTestKeygate();
    try {
      for (const url of ['/healthz', '/', '/auth/v2/me']) {
        const answer = await keygate.http.inject({ method: 'GET', url });
        assert.equal(answer.headers['strict-transport-security'], undefined, url);
        assert.equal(answer.headers['x-content-type-options'], 'nosniff', url);
        assert.equal(answer.headers['referrer-policy'], 'no-referrer', url);
        assert.equal(answer.headers['x-frame-options'], 'DENY', url);
      }
    } finally {
      await keygate.close();
    }
  });

  it('is present behind a TLS proxy (https public URL, plain HTTP to Keygate)', async () => {
    const keygate = await startTestKeygate({ env: { KEYGATE_PUBLIC_URL: 'https://id.example.org' } });
    try {
      for (const url of ['/healthz', '/', '/auth/v2/me', '/missing']) {
        const answer = await keygate.http.inject({ method: 'GET', url });
        assert.equal(answer.headers['strict-transport-security'], HSTS, url);
      }
    } finally {
      await keygate.close();
    }
  });
});

describe('keygate serve with built-in TLS and the HTTP redirect', () => {
  let dataDir: string;
  let port: number;
  let redirectPort: number;
  let node: KeygateNode;

  before(async () => {
    dataDir = mkdtempSync(path.join(os.tmpdir(), 'keygate-https-'));
    [port, redirectPort] = [await freePort(), await freePort()];
    node = await startNode({
      ...TLS_ENV,
      KEYGATE_DATA_DIR: dataDir,
      KEYGATE_PUBLIC_URL: `https://localhost:${port}`,
      KEYGATE_HTTP_REDIRECT_PORT: String(redirectPort),
    }, port);
  });

  after(() => {
    if (node?.process.exitCode === null) node.process.kill('SIGKILL');
    rmSync(dataDir, { recursive: true, force: true });
  });

  it('serves HTTPS on the main port with HSTS', async () => {
    const answer = await request(`https://127.0.0.1:${port}/healthz`);
    assert.equal(answer.status, 200);
    assert.equal(answer.headers['strict-transport-security'], HSTS);
    assert.equal(answer.httpVersion, '1.1');
    assert.match(node.output(), new RegExp(`Keygate is serving https://localhost:${port}`));
  });

  it('answers every plain-HTTP request with a 308 to the same path and query over HTTPS, without HSTS', async () => {
    const answer = await request(`http://127.0.0.1:${redirectPort}/dashboard/apps?tab=keys&x=%2F%20y`, { headers: { host: 'evil.example.com' } });
    assert.equal(answer.status, 308);
    assert.equal(answer.headers.location, `https://localhost:${port}/dashboard/apps?tab=keys&x=%2F%20y`);
    assert.equal(answer.headers['strict-transport-security'], undefined);
    assert.match(String(answer.headers['content-type']), /^text\/plain/);
    assert.ok(answer.body.length < 100, 'a short text, nothing else');
    assert.doesNotMatch(answer.body, /<|\{/);

    const post = await request(`http://127.0.0.1:${redirectPort}/auth/v2/connect`, { method: 'POST', body: '{}', headers: { 'content-type': 'application/json' } });
    assert.equal(post.status, 308, 'the method is kept: a 308, not a 301');
    assert.equal(post.headers.location, `https://localhost:${port}/auth/v2/connect`);

    const root = await request(`http://127.0.0.1:${redirectPort}/`);
    assert.equal(root.headers.location, `https://localhost:${port}/`);
    // A path that looks like another host stays on the public origin.
    const sneaky = await request(`http://127.0.0.1:${redirectPort}//evil.example.com/x`);
    assert.equal(new URL(String(sneaky.headers.location)).host, `localhost:${port}`);
  });

  it('closes both listeners on SIGTERM and exits 0', async () => {
    node.process.kill('SIGTERM');
    assert.equal(await node.exited, 0);
    await assert.rejects(request(`http://127.0.0.1:${redirectPort}/`), /ECONNREFUSED/);
    await assert.rejects(request(`https://127.0.0.1:${port}/healthz`), /ECONNREFUSED/);
  });
});

describe('the HTTPS configuration at start', () => {
  let dataDir: string;

  before(() => {
    dataDir = mkdtempSync(path.join(os.tmpdir(), 'keygate-https-config-'));
  });

  after(() => {
    rmSync(dataDir, { recursive: true, force: true });
  });

  it('refuses to start in production with an http:// public URL, behind a TLS proxy too', () => {
    const started = keygateCli(['serve'], {
      ...productionKeys(), NODE_ENV: 'production', KEYGATE_DATA_DIR: dataDir, PORT: '0', KEYGATE_PUBLIC_URL: 'http://localhost:8080',
    });
    assertCleanRefusal(started, /KEYGATE_BEHIND_TLS_PROXY/);
    assert.match(started.stderr, /KEYGATE_PUBLIC_URL/);
    const proxied = keygateCli(['serve'], {
      ...productionKeys(), NODE_ENV: 'production', KEYGATE_DATA_DIR: dataDir, PORT: '0', KEYGATE_PUBLIC_URL: 'http://localhost:8080', KEYGATE_BEHIND_TLS_PROXY: 'true',
    });
    assertCleanRefusal(proxied, /KEYGATE_BEHIND_TLS_PROXY=true/);
  });

  it('serves plain HTTP behind a TLS proxy, with the proxy\'s https:// address in cookies, HSTS and links', async () => {
    const port = await freePort();
    const node = await startNode({
      ...productionKeys(), NODE_ENV: 'production', KEYGATE_DATA_DIR: dataDir,
      KEYGATE_PUBLIC_URL: 'https://id.example.org', KEYGATE_BEHIND_TLS_PROXY: 'true',
    }, port);
    try {
      const answer = await request(`http://127.0.0.1:${port}/healthz`);
      assert.equal(answer.status, 200);
      assert.match(String(answer.headers['strict-transport-security']), /max-age=63072000/, 'browsers reach it over HTTPS: HSTS');
      const page = await request(`http://127.0.0.1:${port}/account/sign-in`);
      assert.match(String(page.headers['set-cookie']), /__Host-keygate-csrf=[^;]+;.*Secure/);
      node.process.kill('SIGTERM');
      assert.equal(await node.exited, 0);
    } finally {
      if (node.process.exitCode === null) node.process.kill('SIGKILL');
    }
  });

  it('refuses a certificate without its key, and a key without its certificate, naming the missing variable', () => {
    assertCleanRefusal(keygateCli(['serve'], { KEYGATE_DATA_DIR: dataDir, PORT: '0', KEYGATE_TLS_CERT: CERT_FILE }), /KEYGATE_TLS_KEY is missing/);
    assertCleanRefusal(keygateCli(['serve'], { KEYGATE_DATA_DIR: dataDir, PORT: '0', KEYGATE_TLS_KEY: KEY_FILE }), /KEYGATE_TLS_CERT is missing/);
  });

  it('refuses an unreadable certificate file with one clear line', () => {
    const missing = path.join(dataDir, 'no-such-cert.pem');
    const started = keygateCli(['serve'], { KEYGATE_DATA_DIR: dataDir, PORT: '0', KEYGATE_TLS_CERT: missing, KEYGATE_TLS_KEY: KEY_FILE });
    assertCleanRefusal(started, /KEYGATE_TLS_CERT: cannot read .*no-such-cert\.pem: no such file/);
    assert.ok(started.stderr.includes(missing));
    assert.equal(started.stderr.trim().split('\n').length, 1);
  });
});
