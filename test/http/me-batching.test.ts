import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { connectIdOf, GatewayVisitor, SIGN_UP_JANA } from '../support/gateway-visitor.js';
import { startTestKeygate, type TestKeygate } from '../support/test-keygate.js';
import { Ukey1ServerClient } from '../support/ukey1-client.js';

const ORIGIN = 'https://batch.example.org';
const RETURN = `${ORIGIN}/back`;
const FIELDS = ['firstname', 'surname', 'email', 'country'];

describe('/me calls that arrive together', () => {
  let keygate: TestKeygate;
  let client: Ukey1ServerClient;
  before(async () => {
    keygate = await startTestKeygate();
    const app = await keygate.services.apps.createApp({ name: 'Batch Shop', origins: [ORIGIN], returnUrls: [RETURN] });
    client = new Ukey1ServerClient(keygate.http, app.appId, app.secretKey, ORIGIN);
  });
  after(() => keygate.close());

  async function tokenFor(email: string, country: string): Promise<string> {
    const visitor = new GatewayVisitor(keygate.http);
    const connect = await client.connect({ request_id: email, scope: FIELDS, return_url: RETURN });
    const base = `/gateway/${connectIdOf(connect.body.gateway)}`;
    assert.equal((await visitor.signUp(base, { ...SIGN_UP_JANA, email, firstname: email.split('@')[0]!, country }, keygate.outbox)).status, 303);
    const allowed = await visitor.post(`${base}/consent`, { decision: 'allow', fields: FIELDS });
    const code = new URL(allowed.location!).searchParams.get('_ukey1[code]')!;
    return (await client.token({ request_id: email, connect_id: connect.body.connect_id, auth_code: code })).body.access_token;
  }

  it('each get their own person, the refused ones nothing, and every field read is recorded once in its zone', async () => {
    const people = ['ana@example.cz', 'ben@example.cz', 'cyril@example.com', 'dana@example.com', 'eva@example.cz', 'filip@example.com'];
    const tokens: string[] = [];
    for (const [i, email] of people.entries()) tokens.push(await tokenFor(email, i % 2 === 0 ? 'CZ' : 'US'));
    // Ben withdraws the app: his token must fail even inside a batch with the others.
    const ben = (await keygate.services.personDirectory.findByEmail('ben@example.cz'))!;
    await keygate.services.accountCentre.revokeApp(ben, client.appId, { requestId: 'r' });
    const count = async (zone: 'eu' | 'us') => (await keygate.stores.zones[zone].db.selectFrom('audit_events').select('id').where('action', '=', 'field.read').execute()).length;
    const before = { eu: await count('eu'), us: await count('us') };

    const rounds = 5;
    const answers = await Promise.all(Array.from({ length: rounds }, () => tokens.map((t) => client.me(t))).flat());
    answers.forEach((answer, i) => {
      const email = people[i % people.length]!;
      if (email === 'ben@example.cz') {
        assert.equal(answer.status, 401);
      } else {
        assert.equal(answer.status, 200, JSON.stringify(answer.body));
        assert.equal(answer.body.user.email, email, 'each call reads its own person');
        assert.equal(answer.body.user.firstname, email.split('@')[0]);
      }
    });
    // Four fields per successful read, in the person's zone: eu holds ana, cyril and eva; us ben (refused), dana and filip.
    assert.equal(await count('eu') - before.eu, rounds * 3 * 4);
    assert.equal(await count('us') - before.us, rounds * 2 * 4);
    for (const zone of ['eu', 'us'] as const) assert.equal((await keygate.audit.verify(zone)).ok, true);
  });
});
