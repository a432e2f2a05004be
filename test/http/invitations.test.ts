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

  describe('private-app invitations', () => {
    it('mails an address once per app; the API and the dashboard mail it again only on an explicit resend', async () => {
      const owner = await developer('list.owner@example.cz');
      const { appId, secretKey } = await privateApp(owner, 'Mailed once');
      const api = new Ukey1ServerClient(keygate.http, appId, secretKey, ORIGIN);
      const first = await api.call('POST', '/auth/v2/extranet/users', { email: 'listed@example.cz', locale: 'en_GB' });
      assert.equal(first.status, 201);
      for (let i = 0; i < 3; i++) {
        const again = await api.call('POST', '/auth/v2/extranet/users', { email: 'Listed@example.cz', locale: 'cs_CZ' });
        assert.deepEqual([again.status, again.body.reference_id], [201, first.body.reference_id]);
      }
      assert.equal((await owner.post(`/dashboard/apps/${appId}/extranet`, { email: 'listed@example.cz', locale: 'en_GB' })).status, 200);
      assert.equal((await mailsTo('listed@example.cz')).length, 1, 'listing an address again mails nothing');

      const page = await owner.get(`/dashboard/apps/${appId}`);
      assert.match(page.html, /<button[^>]*>Resend invitation to listed@example\.cz<\/button>/);
      const resent = await owner.post(`/dashboard/apps/${appId}/extranet/resend`, { reference: first.body.reference_id });
      assert.equal(resent.status, 200);
      assert.equal((await mailsTo('listed@example.cz')).length, 2, 'an explicit resend mails again');
      const unknown = await owner.post(`/dashboard/apps/${appId}/extranet/resend`, { reference: 'nope' });
      assert.equal(unknown.status, 404);
      assert.ok((await keygate.services.apps.auditTrail(appId)).some((r) => r.action === 'extranet.invitation_resent'));
    });

    it('mails one address no more than a few times a day, whichever apps invite it', async () => {
      const owner = await developer('spammer@example.cz');
      const apps = [await privateApp(owner, 'Spam one'), await privateApp(owner, 'Spam two')];
      const references: string[] = [];
      for (const { appId, secretKey } of apps) {
        const answer = await new Ukey1ServerClient(keygate.http, appId, secretKey, ORIGIN).call('POST', '/auth/v2/extranet/users', { email: 'victim@example.cz' });
        assert.equal(answer.status, 201);
        references.push(answer.body.reference_id);
      }
      for (let i = 0; i < 6; i++) {
        const resent = await owner.post(`/dashboard/apps/${apps[i % 2]!.appId}/extranet/resend`, { reference: references[i % 2]! });
        assert.ok([200, 429].includes(resent.status), String(resent.status));
      }
      assert.equal((await mailsTo('victim@example.cz')).length, 5, 'five invitations a day to one address, then no more');
    });

    it('links only to Keygate, whose page names the app and links on only to its registered origin', async () => {
      const owner = await developer('linking.owner@example.cz');
      const { appId } = await privateApp(owner, 'Linked app');
      assert.equal((await owner.post(`/dashboard/apps/${appId}/extranet`, { email: 'linked@example.cz', locale: 'en_GB' })).status, 200);
      const [mail] = await mailsTo('linked@example.cz');
      assert.ok(mail);
      const links = urlsIn(mail.text);
      assert.ok(links.length > 0);
      for (const link of links) assert.equal(new URL(link).host, KEYGATE_HOST, link);
      const landing = await new GatewayVisitor(keygate.http).get(new URL(links[0]!).pathname);
      assert.equal(landing.status, 200);
      assert.match(landing.html, /Linked app/);
      const outward = [...landing.html.matchAll(/href="(https?:[^"]+)"/g)].map((m) => m[1]);
      assert.deepEqual(outward, [ORIGIN], 'the only way on is the app\'s registered origin');
      assert.equal((await new GatewayVisitor(keygate.http).get('/invitations/00000000-0000-4000-8000-000000000000')).status, 404);
      assert.equal((await new GatewayVisitor(keygate.http).get('/invitations/bad')).status, 404);
    });

    it('answers the API the same for a person who uses the app and for a stranger', async () => {
      const owner = await developer('answer.owner@example.cz');
      const { appId, secretKey } = await privateApp(owner, 'Same answer');
      const api = new Ukey1ServerClient(keygate.http, appId, secretKey, ORIGIN);
      // A person who signed in to the app: first listed, then signed in, then listed by another address's call.
      const listed = await api.call('POST', '/auth/v2/extranet/users', { email: 'user.of.app@example.cz' });
      const opened = await api.connect({ request_id: 'r1', scope: [], return_url: RETURN });
      const person = new GatewayVisitor(keygate.http);
      const connectId = connectIdOf(opened.body.gateway);
      const entered = await person.signUp(`/gateway/${connectId}`, { ...SIGN_UP_JANA, email: 'user.of.app@example.cz' }, keygate.outbox);
      if ((await person.get(entered.location!)).status !== 303) await person.post(`/gateway/${connectId}/consent`, { decision: 'allow' });
      assert.ok(await keygate.services.people.usesApp((await keygate.services.people.findByEmail('user.of.app@example.cz'))!, appId));
      await api.call('DELETE' as 'POST', '/auth/v2/extranet/users', { reference_id: listed.body.reference_id });
      const user = await api.call('POST', '/auth/v2/extranet/users', { email: 'user.of.app@example.cz' });
      const stranger = await api.call('POST', '/auth/v2/extranet/users', { email: 'never.seen@example.cz' });
      assert.deepEqual([user.status, Object.keys(user.body).sort(), user.body.status], [stranger.status, Object.keys(stranger.body).sort(), stranger.body.status]);
      assert.equal(user.body.status, 'email-sent');
    });
  });

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
