import assert from 'node:assert/strict';
import { randomBytes } from 'node:crypto';
import { after, before, describe, it } from 'node:test';
import type { KyselyPlugin, PluginTransformQueryArgs, PluginTransformResultArgs, QueryResult, RootOperationNode, UnknownRow } from 'kysely';
import { AppDirectory } from '../../src/domain/apps/app-directory.js';
import { AppsService } from '../../src/domain/apps/apps-service.js';
import { AppsRepo } from '../../src/storage/control/apps.js';
import { KeyRing } from '../../src/crypto/key-ring.js';
import { openStores, type Stores } from '../../src/storage/stores.js';
import { memoryStoreLocations } from '../support/store-templates.js';
import { TestClock } from '../support/test-keygate.js';
import { sleep } from '../support/services.js';

/** Counts the statements sent to the store. */
class StatementCounter implements KyselyPlugin {
  count = 0;
  transformQuery(args: PluginTransformQueryArgs): RootOperationNode {
    this.count += 1;
    return args.node;
  }
  async transformResult(args: PluginTransformResultArgs): Promise<QueryResult<UnknownRow>> {
    return args.result;
  }
}

const ORIGIN = 'https://cache.example.org';
const PROTECTIONS = { protections: { domain: true, returnUrl: false, serverOnly: false, ip: false }, origins: [ORIGIN], returnUrls: [`${ORIGIN}/back/`], ipEntries: [] };

describe('apps cached in the node', () => {
  let stores: Stores;
  const ring = new KeyRing({ id: 'test', key: randomBytes(32) });
  before(async () => {
    stores = await openStores(await memoryStoreLocations());
  });
  after(async () => stores.close());

  function service(clock = new TestClock()) {
    const counter = new StatementCounter();
    const store = new AppsRepo(stores.control.db.withPlugin(counter));
    const directory = new AppDirectory({ store, ring, clock });
    return { apps: new AppsService({ store, directory, ring, rsaBits: 2048, clock }), directory, counter, clock };
  }

  async function registered(apps: AppsService) {
    const { appId } = await apps.createApp({ name: 'Cached', origins: [ORIGIN], returnUrls: [`${ORIGIN}/back/`] });
    return appId;
  }

  it('loads an app once and serves it again without a statement', async () => {
    const { apps, directory, counter } = service();
    const appId = await registered(apps);
    const first = await directory.findApp(appId);
    const before = counter.count;
    const second = await directory.findApp(appId.toUpperCase());
    assert.equal(counter.count, before);
    assert.equal(second?.name, first?.name);
  });

  it('sees its own changes at once: protections, name, key, deletion', async () => {
    const { apps, directory } = service();
    const appId = await registered(apps);
    const original = await directory.findApp(appId);
    await apps.updateProtections(appId, { ...PROTECTIONS, protections: { ...PROTECTIONS.protections, ip: true }, ipEntries: ['203.0.113.7'] });
    assert.equal((await directory.findApp(appId))?.protections.ip, true);
    await apps.rename(appId, 'Renamed');
    assert.equal((await directory.findApp(appId))?.name, 'Renamed');
    await apps.setPrivate(appId, true);
    assert.equal((await directory.findApp(appId))?.private, true);
    const { secretKey } = await apps.rotateKey(appId, 0);
    assert.equal((await directory.findApp(appId))?.secretKey, secretKey);
    assert.notEqual(secretKey, original?.secretKey);
    await apps.deleteApp(appId);
    assert.equal(await directory.findApp(appId), null);
  });

  it('stops accepting a replaced key when it retires, while the app stays cached', async () => {
    const { apps, directory, counter, clock } = service();
    const appId = await registered(apps);
    const { secretKey: old } = (await directory.findApp(appId))!;
    await apps.rotateKey(appId, 1);
    assert.deepEqual((await directory.findApp(appId))?.keys.map((k) => k.secretKey).slice(1), [old]);
    const before = counter.count;
    clock.advance(24 * 60 * 60 - 1);
    assert.equal((await directory.findApp(appId))?.keys.length, 2);
    clock.advance(2);
    const app = await directory.findApp(appId);
    assert.equal(counter.count, before, 'served from the cache');
    assert.equal(app?.keys.length, 1);
    assert.notEqual(app?.secretKey, old);
  });

  it('sees a change made elsewhere within a second even when no one tells it', async () => {
    const here = service();
    const elsewhere = service().apps;
    const appId = await registered(here.apps);
    assert.equal((await here.directory.findApp(appId))?.protections.ip, false);
    await elsewhere.updateProtections(appId, { ...PROTECTIONS, protections: { ...PROTECTIONS.protections, ip: true }, ipEntries: ['203.0.113.7'] });
    const changedAt = performance.now();
    while ((await here.directory.findApp(appId))?.protections.ip !== true) {
      assert.ok(performance.now() - changedAt < 1100, 'still stale after a second');
      await sleep(25);
    }
  });
});
