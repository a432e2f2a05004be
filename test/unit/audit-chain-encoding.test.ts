import assert from 'node:assert/strict';
import { createHash } from 'node:crypto';
import { describe, it } from 'node:test';
import { chainHash, encodeRecord, GENESIS_HASH, signCheckpoint } from '../../src/domain/audit/chain.js';

const record = (fields: Record<string, string | null>) => ({ id: '7', occurredUs: '1700000000123456', fields });

describe('the canonical encoding of audit records', () => {
  it('is the tag, the id, the time and every field, each length-prefixed (0x01, uint32 BE) or 0x00 for NULL', () => {
    const encoded = encodeRecord('control', record({ app_id: null, action: 'app.created', detail: '', actor_kind: 'operator', actor_id: null, request_id: 'é' }));
    const item = (text: string | null) => text === null
      ? '00'
      : `01${Buffer.byteLength(text).toString(16).padStart(8, '0')}${Buffer.from(text).toString('hex')}`;
    const expected = ['keygate.audit.control.v1', '7', '1700000000123456', null, 'app.created', '', 'operator', null, 'é'].map(item).join('');
    assert.equal(encoded.toString('hex'), expected);
  });

  it('cannot make two different records encode alike (NULL, empty, shifted boundaries)', () => {
    const base = { person_id: null, action: 'ab', field: null, actor_kind: 'app', actor_id: null, app_id: null, purpose: null, request_id: null };
    const variants = [
      base,
      { ...base, action: 'a', field: 'b' },
      { ...base, field: '' },
      { ...base, action: 'ab\u0000' },
      { ...base, purpose: 'null' },
    ].map((fields) => encodeRecord('zone', record(fields)).toString('hex'));
    assert.equal(new Set(variants).size, variants.length);
    assert.notEqual(encodeRecord('zone', record(base)).toString('hex'), encodeRecord('zone', { ...record(base), id: '8' }).toString('hex'));
  });

  it('hashes SHA-256(prev_hash || encoding), and signs checkpoints with HMAC-SHA256', () => {
    const fields = { person_id: null, action: 'x', field: null, actor_kind: 'system', actor_id: null, app_id: null, purpose: null, request_id: null };
    const expected = createHash('sha256').update(GENESIS_HASH).update(encodeRecord('zone', record(fields))).digest();
    assert.deepEqual(chainHash('zone', GENESIS_HASH, record(fields)), expected);
    const claim = { store: 'eu', lastId: '7', lastHash: expected, createdUs: '1' };
    assert.notDeepEqual(signCheckpoint(Buffer.alloc(32, 1), claim), signCheckpoint(Buffer.alloc(32, 2), claim));
    assert.notDeepEqual(signCheckpoint(Buffer.alloc(32, 1), claim), signCheckpoint(Buffer.alloc(32, 1), { ...claim, store: 'us' }));
  });
});
