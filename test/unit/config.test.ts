import assert from 'node:assert/strict';
import { randomBytes } from 'node:crypto';
import { mkdtempSync, readFileSync, statSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { describe, it } from 'node:test';
import { ConfigError, loadConfig } from '../../src/config/config.js';
import { KeyMaterialError, resolveKey } from '../../src/crypto/master-keys.js';

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
