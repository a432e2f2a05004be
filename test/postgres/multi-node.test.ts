import assert from 'node:assert/strict';
import { after, describe, it } from 'node:test';
import pg from 'pg';
import { createDeployment } from '../support/cluster.js';
import { connectIdOf, GatewayVisitor, overHttp, SIGN_UP_JANA } from '../support/gateway-visitor.js';
import { keygateCli, startNode, type KeygateNode } from '../support/node-process.js';
import { freePort } from '../support/ports.js';
import { loadConfig } from '../../src/config/config.js';
import { createKeygate } from '../../src/keygate.js';
import { isValidRedirectSignature, Ukey1ServerClient } from '../support/ukey1-client.js';

const ORIGIN = 'https://multi.example.org';

describe('several stateless nodes on PostgreSQL and Redis', () => {
  const cleanups: Array<() => Promise<unknown>> = [];
  after(async () => {
    for (const cleanup of cleanups.reverse()) await cleanup().catch(() => {});
  });

  async function nodes(env: Record<string, string>, count: number): Promise<KeygateNode[]> {
    const ports = await Promise.all(Array.from({ length: count }, () => freePort()));
    const started = await Promise.all(ports.map((port) => startNode(env, port)));
    for (const node of started) cleanups.push(async () => { node.process.kill('SIGTERM'); await node.exited; });
    return started;
  }

  it('starts two nodes at the same moment on empty databases: both come up, each migration applied once', async () => {
    const deployment = await createDeployment();
    cleanups.push(deployment.drop);
    const [a, b] = await nodes(deployment.env, 2);
    for (const node of [a!, b!]) assert.equal((await fetch(`${node.url}/readyz`)).status, 200);
    for (const variable of ['KEYGATE_DATABASE_URL_CONTROL', 'KEYGATE_DATABASE_URL_EU', 'KEYGATE_DATABASE_URL_US']) {
      const client = new pg.Client({ connectionString: deployment.env[variable] });
      await client.connect();
      const { rows } = await client.query('select name, count(*)::int as n from kysely_migration group by name');
      await client.end();
      assert.ok(rows.length >= 1);
      assert.ok(rows.every((r) => r.n === 1), `${variable}: ${JSON.stringify(rows)}`);
    }
  });

  it('completes the flow with each step on alternating nodes', async () => {
    const deployment = await createDeployment();
    cleanups.push(deployment.drop);
    const migrated = keygateCli(['migrate'], deployment.env);
    assert.equal(migrated.status, 0, migrated.stderr);
    const [a, b] = await nodes(deployment.env, 2);
    const created = keygateCli(['app', 'create', '--name', 'Multi', '--origin', ORIGIN, '--return-url', `${ORIGIN}/back/`, '--json'], deployment.env);
    assert.equal(created.status, 0, created.stderr);
    const { appId, secretKey } = JSON.parse(created.stdout);

    let next = a!;
    const other = () => (next = next === a ? b! : a!);
    const client = new Ukey1ServerClient(() => next.url, appId, secretKey, ORIGIN);
    const visitor = new GatewayVisitor(overHttp(() => next.url));

    const connect = await client.connect({ request_id: 'multi', scope: ['firstname', 'email'], return_url: `${ORIGIN}/back/` }); // a
    assert.equal(connect.status, 201);
    const connectId = connectIdOf(connect.body.gateway);
    other();
    assert.equal((await visitor.get(`/gateway/${connectId}?signup=1`)).status, 200); // b
    other();
    assert.equal((await visitor.post(`/gateway/${connectId}/sign-up`, { ...SIGN_UP_JANA, email: 'multi@example.cz' })).status, 200); // a
    other();
    const code = await deployment.mail.code('multi@example.cz');
    assert.equal((await visitor.post(`/gateway/${connectId}/confirm`, { code })).status, 303); // b: the challenge made on a
    other();
    assert.match((await visitor.get(`/gateway/${connectId}`)).html, /Allow Multi/); // a: the session made on b
    other();
    const decided = await visitor.post(`/gateway/${connectId}/consent`, { decision: 'allow', fields: ['firstname'] }); // b
    const redirect = new URL(decided.location!);
    assert.ok(isValidRedirectSignature(secretKey, appId, redirect.searchParams));
    other();
    const token = await client.token({ request_id: 'multi', connect_id: connectId, auth_code: redirect.searchParams.get('_ukey1[code]')! }); // a
    assert.equal(token.status, 200, JSON.stringify(token.body));
    other();
    const me = await client.me(token.body.access_token); // a
    assert.equal(me.status, 200);
    assert.equal(me.body.user.firstname, 'Jana');
    assert.equal(me.body.user.email, null);
    // Both nodes logged every request (info level) and nothing personal.
    for (const node of [a!, b!]) {
      // The node's own listening address aside, no address appears: clients came from 127.0.0.1.
      const log = node.output().split('\n').filter((line) => !line.includes('Server listening at')).join('\n');
      assert.match(log, /incoming request/);
      for (const personal of ['multi@example.cz', SIGN_UP_JANA.firstname, 'Nov\u00e1kov', 'Nováková', '127.0.0.1']) {
        assert.ok(!log.includes(personal), `a node logged ${personal}`);
      }
    }
  });

  it('refuses on one node within a second a call that another node just made a protection refuse', async () => {
    const deployment = await createDeployment();
    cleanups.push(deployment.drop);
    const migrated = keygateCli(['migrate'], deployment.env);
    assert.equal(migrated.status, 0, migrated.stderr);
    const [b] = await nodes(deployment.env, 1);
    // Node A is the same composition root in this process, on the same databases.
    const a = await createKeygate({ config: loadConfig({ ...deployment.env, KEYGATE_LOG_LEVEL: 'silent' }) });
    cleanups.push(() => a.close());
    const { appId, secretKey } = await a.services.apps.createApp({ name: 'Cached', origins: [ORIGIN], returnUrls: [`${ORIGIN}/back/`] });
    const client = new Ukey1ServerClient(() => b!.url, appId, secretKey, ORIGIN);
    const connect = (n: number) => client.connect({ request_id: `cached-${n}`, scope: ['firstname'], return_url: `${ORIGIN}/back/` });
    assert.equal((await connect(0)).status, 201);
    assert.equal((await connect(1)).status, 201); // b now holds the app

    await a.services.apps.updateProtections(appId, {
      protections: { domain: true, returnUrl: false, serverOnly: false, ip: true },
      origins: [ORIGIN], returnUrls: [`${ORIGIN}/back/`], ipEntries: ['203.0.113.7'],
    });
    const changedAt = performance.now();
    for (let n = 2; ; n += 1) {
      const answer = await connect(n);
      if (answer.status !== 201) {
        assert.equal(answer.status, 403);
        assert.equal(answer.body.debug.code, 'ip_not_allowed', JSON.stringify(answer.body));
        break;
      }
      assert.ok(performance.now() - changedAt < 1000, 'node B still accepts the app a second after IP protection went on');
      await new Promise((resolve) => setTimeout(resolve, 20));
    }
  });

  it('listens again for app changes after its listening connection is cut', async () => {
    const deployment = await createDeployment();
    cleanups.push(deployment.drop);
    const migrated = keygateCli(['migrate'], deployment.env);
    assert.equal(migrated.status, 0, migrated.stderr);
    const [b] = await nodes(deployment.env, 1);
    const control = new pg.Client({ connectionString: deployment.env.KEYGATE_DATABASE_URL_CONTROL });
    await control.connect();
    cleanups.push(() => control.end());
    const listeners = async () => (await control.query(
      "select pid from pg_stat_activity where datname = current_database() and query like 'listen %' and pid <> pg_backend_pid()",
    )).rows.map((r) => r.pid as number);
    const waitForListener = async (other?: number) => {
      for (let tries = 0; tries < 100; tries += 1) {
        const found = (await listeners()).find((pid) => pid !== other);
        if (found !== undefined) return found;
        await new Promise((resolve) => setTimeout(resolve, 50));
      }
      throw new Error(`node B is not listening: ${b!.output()}`);
    };
    const first = await waitForListener();
    await control.query('select pg_terminate_backend($1)', [first]);
    const second = await waitForListener(first);
    assert.notEqual(second, first);
    assert.match(b!.output(), /stopped hearing of app changes/);
  });
});
