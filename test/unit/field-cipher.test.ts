import assert from 'node:assert/strict';
import { randomBytes } from 'node:crypto';
import { describe, it } from 'node:test';
import { decryptFieldText, DecryptionError, encryptField } from '../../src/crypto/field-cipher.js';
import { createDataKey, KeyRing, unwrapDataKey } from '../../src/crypto/key-ring.js';
import { keyIdOf } from '../../src/crypto/master-keys.js';

const key = randomBytes(32);
const at = { table: 'people', column: 'email_ct', rowId: '6f1c7a3e-0000-4000-8000-000000000001' };

describe('field encryption (AES-256-GCM bound to table, column and row)', () => {
  it('round-trips a value at its own location', () => {
    const sealed = encryptField(key, at, 'jana@example.cz');
    assert.equal(decryptFieldText(key, at, sealed), 'jana@example.cz');
  });

  it('never produces the same ciphertext twice (fresh IV)', () => {
    assert.notDeepEqual(encryptField(key, at, 'same'), encryptField(key, at, 'same'));
  });

  it('does not hold the plaintext', () => {
    assert.equal(encryptField(key, at, 'jana@example.cz').includes(Buffer.from('jana')), false);
  });

  it('fails when the ciphertext is moved to another row', () => {
    const sealed = encryptField(key, at, 'jana@example.cz');
    assert.throws(() => decryptFieldText(key, { ...at, rowId: '6f1c7a3e-0000-4000-8000-000000000002' }, sealed), DecryptionError);
  });

  it('fails when the ciphertext is moved to another column or table', () => {
    const sealed = encryptField(key, at, 'Jana');
    assert.throws(() => decryptFieldText(key, { ...at, column: 'firstname_ct' }, sealed), DecryptionError);
    assert.throws(() => decryptFieldText(key, { ...at, table: 'other' }, sealed), DecryptionError);
  });

  it('fails with another key, and when a single bit is flipped', () => {
    const sealed = encryptField(key, at, 'Jana');
    assert.throws(() => decryptFieldText(randomBytes(32), at, sealed), DecryptionError);
    const flipped = Buffer.from(sealed);
    flipped[flipped.length - 1]! ^= 1;
    assert.throws(() => decryptFieldText(key, at, flipped), DecryptionError);
    assert.throws(() => decryptFieldText(key, at, Buffer.alloc(5)), DecryptionError);
  });

  it('cannot be confused by a location whose parts contain the separator', () => {
    const sealed = encryptField(key, { table: 'a|b', column: 'c', rowId: 'd' }, 'x');
    assert.throws(() => decryptFieldText(key, { table: 'a', column: 'b|c', rowId: 'd' }, sealed), DecryptionError);
  });
});

describe('per-person data keys wrapped by the zone master key', () => {
  const master = { id: keyIdOf(key), key };
  const ring = new KeyRing(master);

  it('unwraps a data key for its own person only', () => {
    const { dataKey, wrapped } = createDataKey(ring, 'person-a');
    assert.deepEqual(unwrapDataKey(ring, 'person-a', wrapped), dataKey);
    assert.throws(() => unwrapDataKey(ring, 'person-b', wrapped), DecryptionError);
  });

  it('opens values sealed under an older master key after a new one is introduced', () => {
    const { dataKey, wrapped } = createDataKey(ring, 'person-a');
    const next = randomBytes(32);
    const rotated = new KeyRing({ id: keyIdOf(next), key: next }, [master]);
    assert.deepEqual(unwrapDataKey(rotated, 'person-a', wrapped), dataKey);
    assert.equal(rotated.seal(at, Buffer.from('x')).keyId, keyIdOf(next));
  });
});
