import assert from 'node:assert/strict';
import { Writable } from 'node:stream';
import { after, before, describe, it } from 'node:test';
import { createLogger } from '../../src/logger.js';
import { connectIdOf, GatewayVisitor, SIGN_UP_JANA } from '../support/gateway-visitor.js';
import type { OutboxMail } from '../support/mailbox.js';
import { sleep } from '../support/services.js';
import { Ukey1ServerClient } from '../support/ukey1-client.js';
import { startTestKeygate, type TestKeygate } from '../support/test-keygate.js';

const ORIGIN = 'https://dash.example.org';
const RETURN = 'https://dash.example.org/back/';
const KEYGATE_HOST = 'localhost:8080';

/** Who may become an owner of an app, and who gets mail from Keygate on an app's behalf. */
describe('invitations: owners, private-app lists and what owners see', () => {
  let keygate: TestKeygate;

  before(async () => {
    keygate = await startTestKeygate();
  });
  after(() => keygate.close());

  async function developer(email: string) {
    const visitor = new GatewayVisitor(keygate.http);
    await visitor.get('/dashboard/sign-up');
    const signedUp = await visitor.signUp('/dashboard', { ...SIGN_UP_JANA, email }, keygate.outbox);
    assert.equal(signedUp.status, 303);
    return visitor;
  }

  async function createApp(visitor: GatewayVisitor, name: string) {
    const created = await visitor.post('/dashboard/apps', { name, origins: ORIGIN, returnUrls: RETURN });
    assert.equal(created.status, 201);
    const appId = /id="app-id"[^>]*>([0-9a-f-]{36})</.exec(created.html)![1]!;
    const secretKey = /id="secret-key"[^>]*>([A-Za-z0-9+/=]+)</.exec(created.html)![1]!;
    return { appId, secretKey };
  }

  async function privateApp(visitor: GatewayVisitor, name: string) {
    const app = await createApp(visitor, name);
    assert.equal((await visitor.post(`/dashboard/apps/${app.appId}/private`, { private: 'on' })).status, 200);
    return app;
  }

  const idOf = async (email: string) => (await keygate.services.people.findByEmail(email))!.id;
  const noticeOf = (html: string) => /<p class="notice" role="status">([^<]*)<\/p>/.exec(html)?.[1];
  const mailsTo = async (email: string, match: (mail: OutboxMail) => boolean = () => true) => {
    await keygate.mailSettled();
    await sleep(50);
    return (await keygate.outbox.all()).filter((m) => m.to.toLowerCase() === email.toLowerCase() && match(m));
  };
  const urlsIn = (text: string) => text.match(/https?:\/\/[^\s<>"]+/g) ?? [];

  describe('consent proofs', () => {
    it('shows owners when, what and which decision, and keeps the person\'s address for the person', async () => {
      const owner = await developer('proof.owner@example.cz');
      const { appId, secretKey } = await createApp(owner, 'Proven');
      const client = new Ukey1ServerClient(keygate.http, appId, secretKey, ORIGIN);
      const opened = await client.connect({ request_id: 'p1', scope: ['firstname'], return_url: RETURN });
      const person = new GatewayVisitor(keygate.http);
      const connectId = connectIdOf(opened.body.gateway);
      await person.signUp(`/gateway/${connectId}`, { ...SIGN_UP_JANA, email: 'proof.person@example.cz' }, keygate.outbox);
      assert.equal((await person.post(`/gateway/${connectId}/consent`, { decision: 'allow', fields: ['firstname'] })).status, 303);

      const page = await owner.get(`/dashboard/apps/${appId}`);
      assert.equal((page.html.match(/<td>allowed<\/td>/g) ?? []).length, 1);
      assert.doesNotMatch(page.html, /127\.0\.0\.1|<th scope="col">From<\/th>/, 'no client address for the owners');
      const ownerId = await idOf('proof.owner@example.cz');
      const reads = await keygate.stores.zones.eu.db.selectFrom('audit_events').select('actor_id')
        .where('field', '=', 'consent_address').where('actor_id', '=', ownerId).execute();
      assert.equal(reads.length, 0, 'the owner never opens the address');

      const own = await person.get('/account/apps');
      assert.equal(own.status, 200);
      assert.match(own.html, /from 127\.0\.0\.1/, 'the person sees where they decided from');
    });
  });
});
