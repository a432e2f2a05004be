import assert from 'node:assert/strict';
import { randomUUID } from 'node:crypto';
import { after, before, describe, it } from 'node:test';
import { hashCode } from '../../src/domain/consent/consent-service.js';
import type { NewPair } from '../../src/domain/tokens/lineage-store.js';
import { TokenLineageRepo } from '../../src/storage/zone/token-lineage.js';
import { connectIdOf, GatewayVisitor, SIGN_UP_JANA } from '../support/gateway-visitor.js';
import { startTestKeygate, type TestKeygate } from '../support/test-keygate.js';
import { Ukey1ServerClient } from '../support/ukey1-client.js';

const ORIGIN = 'https://issue.example.org';
const RETURN = `${ORIGIN}/back`;

describe('issuing tokens in one statement (the storage contract, on this run\'s store)', () => {
  let keygate: TestKeygate;
  let client: Ukey1ServerClient;
  before(async () => {
    keygate = await startTestKeygate();
    const app = await keygate.services.apps.createApp({ name: 'Issue Shop', origins: [ORIGIN], returnUrls: [RETURN] });
    client = new Ukey1ServerClient(keygate.http, app.appId, app.secretKey, ORIGIN);
  });
  after(() => keygate.close());

  const pair = (): NewPair & { familyId: string } => {
    const now = keygate.clock.now();
    return {
      jti: randomUUID(), familyId: randomUUID(), now, requestId: 'r-1',
      accessExpiresAt: new Date(now.getTime() + 600_000), refreshTokenHash: hashCode(randomUUID()), refreshExpiresAt: new Date(now.getTime() + 86_400_000),
    };
  };

  async function freshCode(email: string) {
    const visitor = new GatewayVisitor(keygate.http);
    const connect = await client.connect({ request_id: email, scope: ['firstname', 'email'], return_url: RETURN });
    const base = `/gateway/${connectIdOf(connect.body.gateway)}`;
    assert.equal((await visitor.signUp(base, { ...SIGN_UP_JANA, email }, keygate.outbox)).status, 303);
    const allowed = await visitor.post(`${base}/consent`, { decision: 'allow', fields: ['firstname', 'email'] });
    return { connectId: connect.body.connect_id as string, code: new URL(allowed.location!).searchParams.get('_ukey1[code]')! };
  }

  it('claims a code once, writing both tokens and the audit record with it', async () => {
    const db = keygate.stores.zones.eu.db;
    const lineage = new TokenLineageRepo(db);
    const { connectId, code } = await freshCode('one.statement@example.cz');
    const claim = { codeHash: hashCode(code), connectId, appId: client.appId };
    const first = pair();
    const issued = await lineage.claimCodeAndIssue(claim, first);
    assert.ok(issued);
    assert.deepEqual(issued.scope, ['firstname', 'email']);
    assert.equal(await lineage.claimCodeAndIssue(claim, pair()), undefined, 'a code is claimed once');
    assert.ok(await db.selectFrom('access_tokens').select('jti').where('jti', '=', first.jti).executeTakeFirst());
    assert.ok(await db.selectFrom('refresh_tokens').select('family_id').where('token_hash', '=', first.refreshTokenHash).where('family_id', '=', first.familyId).executeTakeFirst());
    const records = await db.selectFrom('audit_events').select(['action', 'request_id']).where('person_id', '=', issued.personId).where('action', '=', 'token.issued').execute();
    assert.deepEqual(records, [{ action: 'token.issued', request_id: 'r-1' }]);
    assert.equal((await keygate.audit.verify('eu')).ok, true);

    // The refresh token of that pair issues the next pair once; without a grant it changes nothing.
    const next = pair();
    assert.ok(await lineage.useRefreshTokenAndIssue({ tokenHash: first.refreshTokenHash, appId: client.appId }, next));
    assert.equal(await lineage.useRefreshTokenAndIssue({ tokenHash: first.refreshTokenHash, appId: client.appId }, pair()), undefined);
    await db.deleteFrom('grants').where('person_id', '=', issued.personId).execute();
    assert.equal(await lineage.useRefreshTokenAndIssue({ tokenHash: next.refreshTokenHash, appId: client.appId }, pair()), undefined);
    const untouched = await db.selectFrom('refresh_tokens').select('used_at').where('token_hash', '=', next.refreshTokenHash).executeTakeFirstOrThrow();
    assert.equal(untouched.used_at, null, 'a refused refresh uses nothing up');
  });
});
