import assert from 'node:assert/strict';
import { after, describe, it } from 'node:test';
import { decodeJwt } from 'jose';
import pg from 'pg';
import { blindIndex } from '../../src/crypto/blind-index.js';
import { createDeployment } from '../support/cluster.js';
import { connectIdOf, GatewayVisitor, overHttp, SIGN_UP_JANA } from '../support/gateway-visitor.js';
import { keygateCli, startNode, type KeygateNode } from '../support/node-process.js';
import { freePort } from '../support/ports.js';
import { sleep } from '../support/services.js';
import { Ukey1ServerClient } from '../support/ukey1-client.js';

const ORIGIN = 'https://kill.example.org';

async function query<T>(url: string, text: string, values: unknown[] = []): Promise<T[]> {
  const client = new pg.Client({ connectionString: url });
  await client.connect();
  try {
    return (await client.query(text, values)).rows as T[];
  } finally {
    await client.end();
  }
}

describe('a node killed with SIGKILL during load', () => {
  const cleanups: Array<() => Promise<unknown>> = [];
  after(async () => {
    for (const cleanup of cleanups.reverse()) await cleanup().catch(() => {});
  });

  it('loses nothing it acknowledged and leaves no half-written person', async () => {
    const deployment = await createDeployment();
    cleanups.push(deployment.drop);
    const created = keygateCli(['app', 'create', '--name', 'Kill', '--origin', ORIGIN, '--return-url', `${ORIGIN}/back`, '--json'], deployment.env);
    assert.equal(created.status, 0, created.stderr);
    const { appId, secretKey } = JSON.parse(created.stdout);
    const port = await freePort();
    let node: KeygateNode = await startNode(deployment.env, port);
    cleanups.push(async () => { node.process.kill('SIGTERM'); await node.exited; });

    const acknowledged = { signUps: [] as Array<{ email: string; zone: 'eu' | 'us' }>, consents: [] as string[], tokens: [] as Array<{ jti: string; zone: string }> };
    const client = new Ukey1ServerClient(() => node.url, appId, secretKey, ORIGIN);
    const outbox = deployment.mail;
    let running = true;
    const deadline = Date.now() + 30_000;

    // Six people at a time, each going through connect → sign-up → code → consent → token,
    // remembering every step the node acknowledged with a 2xx or 303.
    const users = Array.from({ length: 6 }, async (_, user) => {
      for (let round = 0; running && Date.now() < deadline; round++) {
        try {
          const country = (user + round) % 2 === 0 ? 'CZ' : 'US';
          const email = `kill-${user}-${round}@example.${country === 'CZ' ? 'cz' : 'com'}`;
          const connect = await client.connect({ request_id: `${user}-${round}`, scope: ['firstname'], return_url: `${ORIGIN}/back` });
          if (connect.status !== 201) continue;
          const connectId = connectIdOf(connect.body.gateway);
          const visitor = new GatewayVisitor(overHttp(() => node.url));
          const signUp = await visitor.post(`/gateway/${connectId}/sign-up`, { ...SIGN_UP_JANA, email, country });
          if (signUp.status !== 200) continue;
          acknowledged.signUps.push({ email, zone: country === 'CZ' ? 'eu' : 'us' });
          const confirmed = await visitor.post(`/gateway/${connectId}/confirm`, { code: await outbox.code(email) });
          if (confirmed.status !== 303) continue;
          const consent = await visitor.post(`/gateway/${connectId}/consent`, { decision: 'allow', fields: 'firstname' });
          if (consent.status !== 303) continue;
          acknowledged.consents.push(connectId);
          const code = new URL(consent.location!).searchParams.get('_ukey1[code]')!;
          const token = await client.token({ request_id: `${user}-${round}`, connect_id: connectId, auth_code: code });
          if (token.status !== 200) continue;
          acknowledged.tokens.push({ jti: decodeJwt(token.body.access_token).jti!, zone: decodeJwt(token.body.access_token).zone as string });
        } catch {
          await sleep(50); // the node is gone; keep trying until the loop is told to stop
        }
      }
    });

    await sleep(3000);
    node.process.kill('SIGKILL');
    await node.exited;
    await sleep(300);
    running = false;
    await Promise.all(users);
    assert.ok(acknowledged.signUps.length >= 5, `only ${acknowledged.signUps.length} sign-ups before the kill`);

    node = await startNode(deployment.env, port);
    const zoneUrl = { eu: deployment.env.KEYGATE_DATABASE_URL_EU!, us: deployment.env.KEYGATE_DATABASE_URL_US! };
    const indexKey = { eu: Buffer.from(deployment.env.KEYGATE_INDEX_KEY_EU!, 'base64'), us: Buffer.from(deployment.env.KEYGATE_INDEX_KEY_US!, 'base64') };

    for (const { email, zone } of acknowledged.signUps) {
      const rows = await query(zoneUrl[zone], 'select id from people where email_index = $1', [blindIndex(indexKey[zone], 'people.email', email)]);
      assert.equal(rows.length, 1, `acknowledged sign-up of ${email} is missing`);
    }
    for (const connectId of acknowledged.consents) {
      const [connect] = await query<{ status: string; zone: string }>(deployment.env.KEYGATE_DATABASE_URL_CONTROL!, 'select status, zone from connect_requests where id = $1', [connectId]);
      assert.equal(connect?.status, 'authorized', `acknowledged consent ${connectId} is missing`);
      const codes = await query(zoneUrl[connect.zone as 'eu' | 'us'], 'select 1 from auth_codes where connect_id = $1', [connectId]);
      assert.equal(codes.length, 1);
    }
    for (const { jti, zone } of acknowledged.tokens) {
      const tokens = await query(zoneUrl[zone as 'eu' | 'us'], 'select 1 from access_tokens where jti = $1', [jti]);
      assert.equal(tokens.length, 1, `acknowledged token ${jti} is missing`);
    }
    for (const url of Object.values(zoneUrl)) {
      const orphans = await query(url, `select p.id from people p
        left join person_keys k on k.person_id = p.id
        left join audit_events a on a.person_id = p.id and a.action = 'person.signed_up'
        where k.person_id is null or a.id is null`);
      assert.deepEqual(orphans, [], 'a person without a data key or without the record of their sign-up');
    }
    // The restarted node serves the people it acknowledged.
    assert.equal((await fetch(`${node.url}/readyz`)).status, 200);
  });
});
