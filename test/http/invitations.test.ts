import assert from 'node:assert/strict';
import { Writable } from 'node:stream';
import { after, before, describe, it } from 'node:test';
import { createLogger } from '../../src/logger.js';
import { connectIdOf, GatewayVisitor, SIGN_UP_JANA } from '../support/gateway-visitor.js';
import type { OutboxMail } from '../support/mailbox.js';
import { sleep } from '../support/services.js';
import { Ukey1ServerClient } from '../support/ukey1-client.js';
import { startTestKeygate, type TestKeygate } from '../support/test-keygate.js';
import { createApp, developer as signedUpDeveloper } from '../support/dashboard-visitor.js';

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

  const developer = (email: string) => signedUpDeveloper(keygate, email);

  async function privateApp(visitor: GatewayVisitor, name: string) {
    const app = await createApp(visitor, name);
    assert.equal((await visitor.post(`/dashboard/apps/${app.appId}/private`, { private: 'on' })).status, 200);
    // Its server manages the list, which needs IP protection: it calls from loopback.
    const settings = (await keygate.services.appDirectory.findApp(app.appId))!;
    await keygate.services.apps.updateProtections(app.appId, {
      protections: { ...settings.protections, ip: true }, origins: [...settings.origins], returnUrls: [...settings.returnUrls], ipEntries: ['127.0.0.1'],
    });
    return app;
  }

  const idOf = async (email: string) => (await keygate.services.personDirectory.findByEmail(email))!.id;
  const noticeOf = (html: string) => /<p class="notice" role="status">([^<]*)<\/p>/.exec(html)?.[1];
  const mailsTo = async (email: string, match: (mail: OutboxMail) => boolean = () => true) => {
    await keygate.mailSettled();
    await sleep(50);
    return (await keygate.outbox.all()).filter((m) => m.to.toLowerCase() === email.toLowerCase() && match(m));
  };
  const urlsIn = (text: string) => text.match(/https?:\/\/[^\s<>"]+/g) ?? [];

  describe('owners are invited, and become owners only once they accept', () => {
    it('answers the same whether or not the address has an account, and mails only an existing account', async () => {
      const owner = await developer('probe.owner@example.cz');
      const { appId } = await createApp(owner, 'Probed');
      await developer('probe.known@example.cz');
      const known = await owner.post(`/dashboard/apps/${appId}/owners`, { email: 'Probe.Known@example.cz' });
      const unknown = await owner.post(`/dashboard/apps/${appId}/owners`, { email: 'probe.nobody@example.cz' });
      assert.equal(known.status, unknown.status);
      assert.equal(known.status, 200);
      assert.ok(noticeOf(known.html), 'the owner is told what happens');
      assert.equal(noticeOf(known.html), noticeOf(unknown.html), 'the same words for an account and for no account');
      assert.match(noticeOf(known.html)!, /If this address belongs to a Keygate account/);
      assert.doesNotMatch(known.html, /No Keygate account|Owner added/);
      // What the owners' trail shows is the same for both: an invitation was asked for.
      const trail = await keygate.services.apps.auditTrail(appId);
      assert.equal(trail.filter((r) => r.action === 'app.owner_invited').length, 2);
      assert.ok(trail.every((r) => !(r.detail ?? '').includes('@')), 'no address in the trail');
      assert.equal((await mailsTo('probe.known@example.cz', (m) => /Probed/.test(m.subject))).length, 1, 'the account is mailed at its own address');
      assert.equal((await mailsTo('probe.nobody@example.cz')).length, 0, 'nothing is mailed to an address without an account');
      assert.equal(await keygate.services.appOwners.isOwner(appId, await idOf('probe.known@example.cz')), false, 'asking makes nobody an owner');
    });

    it('limits how many invitations an app\'s owners may ask for', async () => {
      const owner = await developer('many.probes@example.cz');
      const { appId } = await createApp(owner, 'Probed often');
      const statuses: number[] = [];
      for (let i = 0; i < 40 && !statuses.includes(429); i++) {
        statuses.push((await owner.post(`/dashboard/apps/${appId}/owners`, { email: `guess${i}@example.cz` })).status);
      }
      assert.ok(statuses.includes(429), `probing stops (${statuses.join(' ')})`);
      assert.ok(statuses.filter((s) => s === 200).length <= 20);
      const refused = await owner.post(`/dashboard/apps/${appId}/owners`, { email: 'one.more@example.cz' });
      assert.equal(refused.status, 429);
      assert.match(refused.html, /role="alert"|id="owner-email-error"/, 'the refusal is readable');
    });

    it('makes the invited account an owner once it accepts, and nobody else with the link', async () => {
      const owner = await developer('inviting.owner@example.cz');
      const { appId } = await createApp(owner, 'Shared by invitation');
      const invitee = await developer('invited.owner@example.cz');
      const other = await developer('link.thief@example.cz');
      assert.equal((await owner.post(`/dashboard/apps/${appId}/owners`, { email: 'invited.owner@example.cz' })).status, 200);
      const link = await keygate.outbox.link('invited.owner@example.cz', '/dashboard/owner-invitations/');
      assert.equal(new URL(link).host, KEYGATE_HOST, 'the link is Keygate\'s');
      const path = new URL(link).pathname;

      // Someone else holding the link: not for them, and the invitation stays for its invitee.
      const elsewhere = await other.get(path);
      assert.equal(elsewhere.status, 403);
      assert.doesNotMatch(elsewhere.html, /Shared by invitation/);
      assert.equal((await other.post(path, { decision: 'accept' })).status, 403);
      assert.equal(await keygate.services.appOwners.isOwner(appId, await idOf('link.thief@example.cz')), false);

      // Without a session: asked to sign in first, nothing accepted; the sign-in comes back to the invitation.
      const anonymous = new GatewayVisitor(keygate.http);
      const signedOut = await anonymous.get(path);
      assert.equal(signedOut.status, 200);
      const signInLink = /href="(\/dashboard\/sign-in\?next=[^"]+)"/.exec(signedOut.html)?.[1];
      assert.equal(signInLink, `/dashboard/sign-in?next=${encodeURIComponent(path)}`);
      assert.equal(await keygate.services.appOwners.isOwner(appId, await idOf('invited.owner@example.cz')), false);
      await anonymous.get(signInLink!.replaceAll('&amp;', '&'));
      const signedIn = await anonymous.post('/dashboard/sign-in', { email: 'invited.owner@example.cz', password: SIGN_UP_JANA.password });
      assert.equal(signedIn.status, 303);
      assert.equal(signedIn.location, path, 'the sign-in returns to the invitation');
      assert.match((await anonymous.get(path)).html, /<button[^>]*name="decision" value="accept"/);
      // `next` leads only to a page of the dashboard.
      for (const elsewhere of ['https://evil.example/', '//evil.example/x', '/dashboard//evil.example', '/dashboard/%2F%2Fevil', '/account/data', '/dashboard/\\evil']) {
        const visitor = new GatewayVisitor(keygate.http);
        await visitor.get(`/dashboard/sign-in?next=${encodeURIComponent(elsewhere)}`);
        const back = await visitor.post('/dashboard/sign-in', { email: 'invited.owner@example.cz', password: SIGN_UP_JANA.password });
        assert.equal(back.location, '/dashboard', elsewhere);
      }

      const page = await invitee.get(path);
      assert.equal(page.status, 200);
      assert.match(page.html, /Shared by invitation/);
      assert.match(page.html, /<button[^>]*name="decision" value="accept"/);
      assert.equal(await keygate.services.appOwners.isOwner(appId, await idOf('invited.owner@example.cz')), false, 'seeing the invitation is not accepting it');
      assert.equal((await invitee.post(path, { decision: 'accept' }, {}, { csrf: false })).status, 403, 'a forged answer is refused');
      assert.equal(await keygate.services.appOwners.isOwner(appId, await idOf('invited.owner@example.cz')), false);
      const accepted = await invitee.post(path, { decision: 'accept' });
      assert.equal(accepted.status, 303);
      assert.equal(accepted.location, `/dashboard/apps/${appId}`);
      assert.equal(await keygate.services.appOwners.isOwner(appId, await idOf('invited.owner@example.cz')), true);
      assert.equal((await invitee.get(`/dashboard/apps/${appId}`)).status, 200);

      const again = await invitee.post(path, { decision: 'accept' });
      assert.equal(again.status, 404, 'an invitation works once');
      const actions = (await keygate.services.apps.auditTrail(appId)).map((r) => r.action);
      assert.ok(actions.includes('app.owner_invitation_accepted'));
      assert.ok(actions.includes('app.owner_added'));
    });

    it('lets the invitee decline, and lets no invitation outlive a week', async () => {
      const owner = await developer('expiring.owner@example.cz');
      const { appId } = await createApp(owner, 'Short lived');
      const invitee = await developer('slow.invitee@example.cz');
      await owner.post(`/dashboard/apps/${appId}/owners`, { email: 'slow.invitee@example.cz' });
      const declinePath = new URL(await keygate.outbox.link('slow.invitee@example.cz', '/dashboard/owner-invitations/')).pathname;
      const declined = await invitee.post(declinePath, { decision: 'decline' });
      assert.equal(declined.status, 200);
      assert.equal((await invitee.post(declinePath, { decision: 'accept' })).status, 404, 'a declined invitation is gone');
      assert.ok((await keygate.services.apps.auditTrail(appId)).some((r) => r.action === 'app.owner_invitation_declined'));

      await owner.post(`/dashboard/apps/${appId}/owners`, { email: 'slow.invitee@example.cz' });
      const latePath = new URL(await keygate.outbox.link('slow.invitee@example.cz', '/dashboard/owner-invitations/')).pathname;
      keygate.clock.advance(7 * 24 * 3600 + 60);
      // A week also ends the session: the invitee signs in again.
      await invitee.get('/dashboard/sign-in');
      assert.equal((await invitee.post('/dashboard/sign-in', { email: 'slow.invitee@example.cz', password: SIGN_UP_JANA.password })).status, 303);
      assert.equal((await invitee.get(latePath)).status, 404);
      await invitee.get('/dashboard');
      assert.equal((await invitee.post(latePath, { decision: 'accept' })).status, 404);
      assert.equal(await keygate.services.appOwners.isOwner(appId, await idOf('slow.invitee@example.cz')), false);
      assert.ok((await keygate.purgeExpired()).ownerInvitations >= 1, 'an expired invitation is deleted');
      assert.equal((await keygate.stores.control.db.selectFrom('owner_invitations').select('id').where('app_id', '=', appId).execute()).length, 0);
      // Another form value is a readable refusal, never an error page.
      assert.equal((await invitee.post(latePath, { decision: 'maybe' })).status, 400);
      assert.equal((await invitee.get('/dashboard/owner-invitations/not-a-token')).status, 404);
    });

    it('lets an invitation lapse when the owner who sent it is removed', async () => {
      const first = await developer('staying.owner@example.cz');
      const { appId } = await createApp(first, 'Handed over');
      const leaving = await developer('leaving.owner@example.cz');
      await first.post(`/dashboard/apps/${appId}/owners`, { email: 'leaving.owner@example.cz' });
      const handOver = new URL(await keygate.outbox.link('leaving.owner@example.cz', '/dashboard/owner-invitations/')).pathname;
      assert.equal((await leaving.post(handOver, { decision: 'accept' })).status, 303);
      const accomplice = await developer('accomplice@example.cz');
      await leaving.post(`/dashboard/apps/${appId}/owners`, { email: 'accomplice@example.cz' });
      const backdoor = new URL(await keygate.outbox.link('accomplice@example.cz', '/dashboard/owner-invitations/')).pathname;
      assert.equal((await first.post(`/dashboard/apps/${appId}/owners/remove`, { person: await idOf('leaving.owner@example.cz') })).status, 200);
      assert.equal((await accomplice.get(backdoor)).status, 404);
      await accomplice.get('/dashboard');
      assert.equal((await accomplice.post(backdoor, { decision: 'accept' })).status, 404);
      assert.equal(await keygate.services.appOwners.isOwner(appId, await idOf('accomplice@example.cz')), false);
    });

    it('logs the link of an invitation without its token, as it does a reset link', () => {
      let logged = '';
      const logger = createLogger('info', new Writable({ write(chunk, _encoding, done) { logged += chunk.toString(); done(); } }));
      const token = 'A'.repeat(43);
      logger.info({ req: { id: 'r', method: 'GET', url: `/dashboard/owner-invitations/${token}?x=1` } }, 'request');
      assert.match(logged, /\/dashboard\/owner-invitations\/\[redacted\]/);
      assert.ok(!logged.includes(token));
    });

    it('keeps only the token\'s hash and opaque ids in the control plane', async () => {
      const owner = await developer('hashing.owner@example.cz');
      const { appId } = await createApp(owner, 'Hashed');
      await developer('hashed.invitee@example.cz');
      await owner.post(`/dashboard/apps/${appId}/owners`, { email: 'hashed.invitee@example.cz' });
      const token = new URL(await keygate.outbox.link('hashed.invitee@example.cz', '/dashboard/owner-invitations/')).pathname.split('/').pop()!;
      const rows = await keygate.stores.control.db.selectFrom('owner_invitations').selectAll().where('app_id', '=', appId).execute();
      assert.equal(rows.length, 1);
      const stored = JSON.stringify(rows, (_k, v) => (v instanceof Uint8Array ? Buffer.from(v).toString('base64url') : v));
      assert.ok(!stored.includes(token), 'the token is not stored');
      assert.ok(!stored.includes('hashed.invitee'), 'no address is stored');
    });
  });

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
      assert.ok(await keygate.services.personDirectory.usesApp((await keygate.services.personDirectory.findByEmail('user.of.app@example.cz'))!, appId));
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
