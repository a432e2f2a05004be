import assert from 'node:assert/strict';
import { randomBytes } from 'node:crypto';
import { describe, it } from 'node:test';
import { KeyRing } from '../../src/crypto/key-ring.js';
import { keyIdOf } from '../../src/crypto/master-keys.js';
import { rotateControlKeys, rotateZoneKeys } from '../../src/storage/maintenance/key-rotation.js';
import { PersonProfiles } from '../../src/domain/people/person-profiles.js';
import { ZoneRegistry, type Zone } from '../../src/domain/zones/zone-registry.js';
import { AppDirectory } from '../../src/domain/apps/app-directory.js';
import { AppsRepo } from '../../src/storage/control/apps.js';
import { SigningKeys } from '../../src/domain/signing/signing-keys.js';
import { SigningKeysRepo } from '../../src/storage/control/signing-keys.js';
import { systemClock } from '../../src/domain/clock.js';
import { zoneRepositories } from '../../src/storage/zone/repositories.js';
import { startTestKeygate } from '../support/test-keygate.js';

const newKey = () => {
  const key = randomBytes(32);
  return { id: keyIdOf(key), key };
};

describe('master key rotation', () => {
  it('re-wraps every data key of a zone in resumable batches; afterwards the old master key is not needed', async () => {
    const oldKey = newKey();
    const keygate = await startTestKeygate({ env: { KEYGATE_MASTER_KEY_EU: oldKey.key.toString('base64') } });
    try {
      const count = 23;
      for (let i = 0; i < count; i++) {
        const signedUp = await keygate.services.people.signUp({
          email: `rotation-${i}@example.de`, password: 'long enough password', firstname: `Anna${i}`, surname: 'Schmidt', country: 'DE', language: 'de',
        }, {});
        assert.ok(signedUp.ok);
      }
      const eu = keygate.stores.zones.eu.db;
      const people = await eu.selectFrom('people').select('id').execute();
      const zoneWith = (ring: KeyRing): Zone => ({ name: 'eu', ...zoneRepositories(eu), ring, indexKey: Buffer.alloc(32) });
      const readAll = async (ring: KeyRing) => {
        const service = new PersonProfiles({ zones: new ZoneRegistry([zoneWith(ring), { name: 'us', ...zoneRepositories(keygate.stores.zones.us.db), ring, indexKey: Buffer.alloc(32) }]) });
        return zoneWith(ring).people.transaction(async (writes) => Promise.all(people.map((p) =>
          service.readFields(writes, zoneWith(ring), p.id, ['firstname', 'email'], { kind: 'operator', id: 'test' }, 'rotation check'))));
      };

      // The nodes now run with a new current key and the old one as previous.
      const nextKey = newKey();
      const during = new KeyRing(nextKey, [oldKey]);

      // Interrupted after the first batch of 10 …
      const stop = new AbortController();
      const progress: number[] = [];
      const first = await rotateZoneKeys(eu, during, { batchSize: 10, signal: stop.signal, onProgress: ({ done }) => { progress.push(done); if (done >= 10) stop.abort(); } });
      assert.equal(first.rewrapped, 10);
      assert.equal(first.remaining, count - 10);
      assert.deepEqual(first.retiredKeyIds, [oldKey.id]);
      // … every field still decrypts in the mixed state …
      assert.equal((await readAll(during)).filter((p) => p?.firstname?.startsWith('Anna')).length, count);
      // … then resumed, it finishes with the rest.
      const second = await rotateZoneKeys(eu, during, { batchSize: 10 });
      assert.equal(second.rewrapped, count - 10);
      assert.equal(second.remaining, 0);
      assert.deepEqual(progress, [0, 10]);

      // The old master key is no longer needed: a ring without it opens everything.
      const after = await readAll(new KeyRing(nextKey));
      assert.deepEqual(after.map((p) => p?.email).sort(), Array.from({ length: count }, (_, i) => `rotation-${i}@example.de`).sort());
      // And without the new key nothing opens: the re-wrap really happened under it.
      await assert.rejects(readAll(new KeyRing(oldKey)));

      // People still sign in.
      assert.ok(await keygate.services.passwords.authenticate('rotation-7@example.de', 'long enough password', {}));
      const again = await rotateZoneKeys(eu, during);
      assert.deepEqual([again.rewrapped, again.remaining, again.retiredKeyIds.length], [0, 0, 0]);
    } finally {
      await keygate.close();
    }
  });

  it("re-wraps the app private keys and Keygate's signing keys of the control plane", async () => {
    const oldKey = newKey();
    const keygate = await startTestKeygate({ env: { KEYGATE_MASTER_KEY_CONTROL: oldKey.key.toString('base64') } });
    try {
      const { appId } = await keygate.services.apps.createApp({ name: 'Rotating', origins: [], returnUrls: ['https://rot.example.org/back'] });
      const { kid } = await keygate.services.signingKeys.signer();
      const nextKey = newKey();
      const result = await rotateControlKeys(keygate.stores.control.db, new KeyRing(nextKey, [oldKey]));
      assert.deepEqual([result.rewrapped, result.remaining], [2, 0]);
      const signingKeys = new SigningKeys({ store: new SigningKeysRepo(keygate.stores.control.db), ring: new KeyRing(nextKey), clock: systemClock, longestTokenSeconds: 3600 });
      assert.equal((await signingKeys.signer()).kid, kid);
      const apps = new AppDirectory({ store: new AppsRepo(keygate.stores.control.db), ring: new KeyRing(nextKey), clock: systemClock });
      assert.equal((await apps.findApp(appId))?.privateKey.asymmetricKeyType, 'rsa');
    } finally {
      await keygate.close();
    }
  });
});
