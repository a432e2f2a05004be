import assert from 'node:assert/strict';
import { generateKeyPairSync, randomBytes } from 'node:crypto';
import { mkdtempSync, readFileSync, statSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { describe, it } from 'node:test';
import { ConfigError, loadConfig } from '../../src/config/config.js';
import { KeyMaterialError, resolveKey } from '../../src/crypto/master-keys.js';

/** An SMTP server to name; nothing is sent while the configuration is read. */
const SMTP = { KEYGATE_SMTP_URL: 'smtp://127.0.0.1:2525' };

describe('configuration', () => {
  it('has working defaults for development', () => {
    const config = loadConfig({});
    assert.equal(config.port, 8080);
    assert.equal(config.publicUrl, 'http://localhost:8080');
    assert.equal(config.production, false);
    assert.equal(config.authCodeTtlSeconds, 60);
    assert.ok(Object.isFrozen(config));
  });

  it('names the variable that is wrong', () => {
    assert.throws(() => loadConfig({ PORT: 'eighty' }), (e: unknown) => e instanceof ConfigError && /PORT/.test(e.message));
    assert.throws(() => loadConfig({ KEYGATE_AUTH_CODE_TTL_SECONDS: '600' }), /KEYGATE_AUTH_CODE_TTL_SECONDS/);
    assert.throws(() => loadConfig({ KEYGATE_DATABASE_URL_EU: 'mysql://x' }), /KEYGATE_DATABASE_URL_EU/);
  });
});

describe('HTTPS configuration', () => {
  const CERT = path.resolve('test/fixtures/tls/localhost-cert.pem');
  const KEY = path.resolve('test/fixtures/tls/localhost-key.pem');
  const tls = { KEYGATE_TLS_CERT: CERT, KEYGATE_TLS_KEY: KEY };
  const refuses = (env: NodeJS.ProcessEnv, ...patterns: RegExp[]) =>
    assert.throws(() => loadConfig(env), (e: unknown) => e instanceof ConfigError && patterns.every((p) => p.test(e.message)));

  it('has no built-in TLS, no redirect and no proxy by default', () => {
    const config = loadConfig({});
    assert.equal(config.tls, undefined);
    assert.equal(config.httpRedirectPort, undefined);
    assert.equal(config.behindTlsProxy, false);
  });

  it('reads the certificate and key when both are set, and defaults the public URL to https', () => {
    const config = loadConfig({ ...tls, PORT: '8443' });
    assert.equal(config.tls?.certFile, CERT);
    assert.equal(config.tls?.keyFile, KEY);
    assert.deepEqual(config.tls?.cert, readFileSync(CERT));
    assert.deepEqual(config.tls?.key, readFileSync(KEY));
    assert.equal(config.publicUrl, 'https://localhost:8443');
  });

  it('needs both the certificate and the key, naming the missing one', () => {
    refuses({ KEYGATE_TLS_CERT: CERT }, /^KEYGATE_TLS_KEY is missing/);
    refuses({ KEYGATE_TLS_KEY: KEY }, /^KEYGATE_TLS_CERT is missing/);
    // An empty variable counts as unset.
    refuses({ KEYGATE_TLS_CERT: CERT, KEYGATE_TLS_KEY: ' ' }, /^KEYGATE_TLS_KEY is missing/);
    assert.equal(loadConfig({ KEYGATE_TLS_CERT: '', KEYGATE_TLS_KEY: '' }).tls, undefined);
  });

  it('refuses unreadable files, files that are not PEM and a key that does not match the certificate', () => {
    const dir = mkdtempSync(path.join(os.tmpdir(), 'keygate-tls-'));
    refuses({ ...tls, KEYGATE_TLS_KEY: path.join(dir, 'missing.pem') }, /^KEYGATE_TLS_KEY: cannot read .*missing\.pem: no such file/);
    refuses({ ...tls, KEYGATE_TLS_CERT: dir }, /^KEYGATE_TLS_CERT: cannot read .*: it is a directory$/);
    refuses({ KEYGATE_TLS_CERT: KEY, KEYGATE_TLS_KEY: CERT }, /KEYGATE_TLS_CERT and KEYGATE_TLS_KEY/);
    const otherKey = path.join(dir, 'other-key.pem');
    writeFileSync(otherKey, generateKeyPairSync('rsa', { modulusLength: 2048 }).privateKey.export({ type: 'pkcs8', format: 'pem' }));
    refuses({ ...tls, KEYGATE_TLS_KEY: otherKey }, /KEYGATE_TLS_CERT and KEYGATE_TLS_KEY .*matching private key/);
  });

  it('refuses an http:// public URL when Keygate serves HTTPS itself', () => {
    refuses({ ...tls, KEYGATE_PUBLIC_URL: 'http://localhost:8080' }, /KEYGATE_PUBLIC_URL must be an https:\/\/ URL/);
    assert.equal(loadConfig({ ...tls, KEYGATE_PUBLIC_URL: 'https://id.example.org/' }).publicUrl, 'https://id.example.org');
  });

  it('refuses an http:// public URL in production, behind a TLS proxy too, naming what to set', () => {
    refuses({ NODE_ENV: 'production', KEYGATE_PUBLIC_URL: 'http://id.example.org' }, /KEYGATE_PUBLIC_URL/, /https:\/\//, /KEYGATE_BEHIND_TLS_PROXY=true/);
    refuses({ NODE_ENV: 'production', KEYGATE_PUBLIC_URL: 'http://localhost:8080' }, /KEYGATE_PUBLIC_URL is http:\/\/ in production/);
    refuses({ NODE_ENV: 'production' }, /KEYGATE_PUBLIC_URL is http:\/\/ in production/);
    refuses({ NODE_ENV: 'production', KEYGATE_PUBLIC_URL: 'http://id.example.org', KEYGATE_BEHIND_TLS_PROXY: 'false' }, /KEYGATE_PUBLIC_URL/);
    // Behind a proxy that ends TLS, the public URL is the proxy's https:// address, in any mode.
    refuses({ NODE_ENV: 'production', KEYGATE_PUBLIC_URL: 'http://localhost:8080', KEYGATE_BEHIND_TLS_PROXY: 'true' }, /KEYGATE_BEHIND_TLS_PROXY=true/, /https:\/\/ URL/);
    refuses({ KEYGATE_PUBLIC_URL: 'http://localhost:8080', KEYGATE_BEHIND_TLS_PROXY: 'true' }, /KEYGATE_BEHIND_TLS_PROXY=true/);
    const proxied = loadConfig({ NODE_ENV: 'production', KEYGATE_PUBLIC_URL: 'https://id.example.org', KEYGATE_BEHIND_TLS_PROXY: 'true', ...SMTP });
    assert.equal(proxied.behindTlsProxy, true);
    assert.equal(proxied.publicUrl, 'https://id.example.org');
    assert.equal(loadConfig({ NODE_ENV: 'production', KEYGATE_PUBLIC_URL: 'https://id.example.org', ...SMTP }).production, true);
    assert.equal(loadConfig({ NODE_ENV: 'production', ...tls, ...SMTP }).publicUrl, 'https://localhost:8080');
    refuses({ KEYGATE_BEHIND_TLS_PROXY: 'yes' }, /^KEYGATE_BEHIND_TLS_PROXY: must be true or false/);
  });

  it('refuses production without an SMTP server, naming KEYGATE_SMTP_URL; development keeps the outbox', () => {
    refuses({ NODE_ENV: 'production', KEYGATE_PUBLIC_URL: 'https://id.example.org' }, /KEYGATE_SMTP_URL is required in production/, /outbox/);
    assert.equal(loadConfig({ NODE_ENV: 'production', KEYGATE_PUBLIC_URL: 'https://id.example.org', ...SMTP }).mail.smtpUrl, SMTP.KEYGATE_SMTP_URL);
    assert.equal(loadConfig({}).mail.smtpUrl, undefined);
  });

  it('keeps http:// and loopback public URLs fine in development', () => {
    assert.equal(loadConfig({ KEYGATE_PUBLIC_URL: 'http://localhost:3000' }).publicUrl, 'http://localhost:3000');
    assert.equal(loadConfig({ KEYGATE_PUBLIC_URL: 'http://127.0.0.1:8080' }).publicUrl, 'http://127.0.0.1:8080');
    assert.equal(loadConfig({ NODE_ENV: 'development', KEYGATE_PUBLIC_URL: 'http://id.internal' }).publicUrl, 'http://id.internal');
  });

  it('opens the HTTP redirect only towards an https public URL, on a port of its own', () => {
    assert.equal(loadConfig({ ...tls, KEYGATE_HTTP_REDIRECT_PORT: '80', PORT: '443' }).httpRedirectPort, 80);
    assert.equal(loadConfig({ KEYGATE_PUBLIC_URL: 'https://id.example.org', KEYGATE_HTTP_REDIRECT_PORT: '8081' }).httpRedirectPort, 8081);
    assert.equal(loadConfig({ ...tls, KEYGATE_HTTP_REDIRECT_PORT: '' }).httpRedirectPort, undefined);
    refuses({ KEYGATE_HTTP_REDIRECT_PORT: '8081' }, /KEYGATE_HTTP_REDIRECT_PORT/, /KEYGATE_PUBLIC_URL must be an https:\/\/ URL/);
    refuses({ ...tls, KEYGATE_HTTP_REDIRECT_PORT: '8080' }, /KEYGATE_HTTP_REDIRECT_PORT must differ from PORT/);
    refuses({ ...tls, KEYGATE_HTTP_REDIRECT_PORT: '0' }, /^KEYGATE_HTTP_REDIRECT_PORT:/);
    refuses({ ...tls, KEYGATE_HTTP_REDIRECT_PORT: 'eighty' }, /^KEYGATE_HTTP_REDIRECT_PORT:/);
  });
});

describe('the metrics listener', () => {
  const refuses = (env: NodeJS.ProcessEnv, ...patterns: RegExp[]) =>
    assert.throws(() => loadConfig(env), (e: unknown) => e instanceof ConfigError && patterns.every((p) => p.test(e.message)));

  it('is off unless a port is given, and then binds loopback', () => {
    assert.equal(loadConfig({}).metrics, undefined);
    assert.equal(loadConfig({ KEYGATE_METRICS_PORT: '' }).metrics, undefined);
    assert.deepEqual(loadConfig({ KEYGATE_METRICS_PORT: '9464' }).metrics, { host: '127.0.0.1', port: 9464 });
    assert.deepEqual(loadConfig({ KEYGATE_METRICS_PORT: '9464', KEYGATE_METRICS_HOST: '0.0.0.0' }).metrics, { host: '0.0.0.0', port: 9464 });
    assert.deepEqual(loadConfig({ KEYGATE_METRICS_PORT: '9464', KEYGATE_METRICS_HOST: '::1' }).metrics, { host: '::1', port: 9464 });
    assert.ok(Object.isFrozen(loadConfig({ KEYGATE_METRICS_PORT: '9464' }).metrics));
  });

  it('refuses a port that is no port, or one the public listener or the redirect uses', () => {
    refuses({ KEYGATE_METRICS_PORT: 'nine' }, /^KEYGATE_METRICS_PORT: must be a port number/);
    refuses({ KEYGATE_METRICS_PORT: '0' }, /^KEYGATE_METRICS_PORT: must be a port number/);
    refuses({ KEYGATE_METRICS_PORT: '70000' }, /^KEYGATE_METRICS_PORT: must be a port number/);
    refuses({ KEYGATE_METRICS_PORT: '8080' }, /^KEYGATE_METRICS_PORT must differ from PORT/);
    refuses({ PORT: '3000', KEYGATE_METRICS_PORT: '3000' }, /^KEYGATE_METRICS_PORT must differ from PORT/);
    refuses({ KEYGATE_PUBLIC_URL: 'https://id.example.org', KEYGATE_HTTP_REDIRECT_PORT: '8081', KEYGATE_METRICS_PORT: '8081' }, /^KEYGATE_METRICS_PORT must differ from KEYGATE_HTTP_REDIRECT_PORT/);
  });

  it('listens only on an IP address, and refuses a host without a port', () => {
    refuses({ KEYGATE_METRICS_PORT: '9464', KEYGATE_METRICS_HOST: 'metrics.example.org' }, /^KEYGATE_METRICS_HOST must be an IP address/);
    refuses({ KEYGATE_METRICS_PORT: '9464', KEYGATE_METRICS_HOST: '127.0.0.1:9464' }, /^KEYGATE_METRICS_HOST must be an IP address/);
    refuses({ KEYGATE_METRICS_HOST: '0.0.0.0' }, /^KEYGATE_METRICS_HOST is set but KEYGATE_METRICS_PORT is not/);
  });
});

describe('master keys', () => {
  const dir = mkdtempSync(path.join(os.tmpdir(), 'keygate-keys-'));

  it('refuses to start in production without a key, naming the variable', () => {
    assert.throws(
      () => resolveKey({ variable: 'KEYGATE_MASTER_KEY_EU' }, { production: true, developmentFile: path.join(dir, 'never.key') }),
      (e: unknown) => e instanceof KeyMaterialError && /KEYGATE_MASTER_KEY_EU/.test(e.message),
    );
  });

  it('generates a development key once, mode 0600, and reuses it', () => {
    const file = path.join(dir, 'dev', 'master-eu.key');
    let generated = 0;
    const first = resolveKey({ variable: 'KEYGATE_MASTER_KEY_EU' }, { production: false, developmentFile: file, onGenerated: () => generated++ });
    const second = resolveKey({ variable: 'KEYGATE_MASTER_KEY_EU' }, { production: false, developmentFile: file, onGenerated: () => generated++ });
    assert.equal(generated, 1);
    assert.deepEqual(first.key, second.key);
    assert.equal(statSync(file).mode & 0o777, 0o600);
    assert.equal(Buffer.from(readFileSync(file, 'utf8').trim(), 'base64').length, 32);
  });

  it('reads a key from the environment and refuses a short one', () => {
    const value = randomBytes(32).toString('base64');
    assert.equal(resolveKey({ variable: 'K', value }, { production: true, developmentFile: '' }).key.toString('base64'), value);
    assert.throws(() => resolveKey({ variable: 'K', value: 'c2hvcnQ=' }, { production: true, developmentFile: '' }), /K must hold 32 random bytes/);
  });
});
