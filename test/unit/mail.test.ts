import assert from 'node:assert/strict';
import { mkdtemp, readdir, readFile, rm, stat } from 'node:fs/promises';
import type { AddressInfo } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { simpleParser } from 'mailparser';
import pino, { type Logger } from 'pino';
import { SMTPServer } from 'smtp-server';
import { createMailer } from '../../src/mail/mailer.js';
import { extranetInvitation, resolveLocale } from '../../src/mail/messages.js';
import { startSmtpServer, type TestSmtpServer } from '../support/smtp.js';

const FROM = 'Keygate <keygate@example.org>';
const RECIPIENT = 'jana.novakova@example.com';
const SIGN_IN_URL = 'https://app.example.org/sign-in';

function capturingLogger(): { logger: Logger; lines: string[] } {
  const lines: string[] = [];
  return { logger: pino({ level: 'trace' }, { write: (line: string) => void lines.push(line) }), lines };
}

const INVALID_RECIPIENTS = [
  '',
  'not-an-address',
  '@example.com',
  'jana@',
  'jana@example.com\r\nBcc: victim@example.net',
  'jana@example.com\nBcc: victim@example.net',
  'jana@example.com\r',
  'jana@example.com, victim@example.net',
  'jana@example.com;victim@example.net',
  'jana@example.com victim@example.net',
  'Jana <jana@example.com>',
  '"victim@example.net" <jana@example.com>',
  'jana@example.com (victim@example.net)',
  'group: jana@example.com, victim@example.net;',
  'jana@example.com\u0000',
  'jana@@example.com',
  'jana@example..com',
  `${'a'.repeat(250)}@example.com`,
];

describe('mail messages', () => {
  it('resolves Czech in its usual spellings and falls back to British English', () => {
    for (const czech of ['cs', 'CS', 'cs_CZ', 'cs-CZ', 'CS-cz', 'cs_cz', ' cs-CZ ']) assert.equal(resolveLocale(czech), 'cs_CZ', czech);
    for (const other of [undefined, '', 'en', 'en_GB', 'en-US', 'sk', 'de_DE', 'czech', 'cs_CZ_x', 'cs-SK', '<script>']) {
      assert.equal(resolveLocale(other), 'en_GB', String(other));
    }
  });

  it('invites to the app in English', () => {
    const mail = extranetInvitation('en_GB', { appName: 'Supplier Portal', signInUrl: SIGN_IN_URL });
    assert.equal(mail.subject, 'Invitation to Supplier Portal');
    assert.match(mail.text, /Supplier Portal/);
    assert.match(mail.text, /list of people who are allowed to sign in/);
    assert.ok(mail.text.includes(SIGN_IN_URL));
    assert.ok(mail.html.includes(`<a href="${SIGN_IN_URL}">${SIGN_IN_URL}</a>`));
    assert.match(mail.html, /<html lang="en-GB">/);
  });

  it('invites to the app in Czech', () => {
    const mail = extranetInvitation('cs_CZ', { appName: 'Portál dodavatelů', signInUrl: SIGN_IN_URL });
    assert.equal(mail.subject, 'Pozvánka do aplikace Portál dodavatelů');
    assert.match(mail.text, /^Dobrý den,/);
    assert.match(mail.text, /seznam osob, které se do ní mohou přihlásit/);
    assert.ok(mail.text.includes(SIGN_IN_URL));
    assert.match(mail.html, /<html lang="cs">/);
  });

  it('escapes the app name and the URL in HTML', () => {
    const appName = '<script>alert("x")</script> & <img src=x onerror=alert(1)>';
    const signInUrl = 'https://app.example.org/sign-in?next="><script>alert(1)</script>';
    for (const locale of ['en_GB', 'cs_CZ'] as const) {
      const mail = extranetInvitation(locale, { appName, signInUrl });
      assert.ok(!mail.html.includes('<script'), mail.html);
      assert.ok(!mail.html.includes('<img'), mail.html);
      assert.ok(!mail.html.includes('next="'), mail.html);
      assert.ok(mail.html.includes('&lt;script&gt;alert(&quot;x&quot;)&lt;/script&gt; &amp; &lt;img src=x onerror=alert(1)&gt;'));
      assert.ok(mail.html.includes('href="https://app.example.org/sign-in?next=&quot;&gt;&lt;script&gt;'));
      // Plain text is not HTML: it keeps the name as written.
      assert.ok(mail.text.includes(appName));
    }
  });

  it('keeps the subject on one line and refuses links that are not web URLs', () => {
    assert.equal(extranetInvitation('en_GB', { appName: 'Two\r\nLines', signInUrl: SIGN_IN_URL }).subject, 'Invitation to Two Lines');
    for (const signInUrl of ['javascript:alert(1)', '/sign-in', 'data:text/html,x', 'not a url']) {
      assert.throws(() => extranetInvitation('en_GB', { appName: 'App', signInUrl }), /absolute http\(s\) URL/, signInUrl);
    }
  });
});

describe('mail outbox (no SMTP configured)', () => {
  let dir: string;
  before(async () => {
    dir = await mkdtemp(join(tmpdir(), 'keygate-mail-'));
  });
  after(() => rm(dir, { recursive: true, force: true }));

  it('writes a private, parsable .eml and logs only its file name', async () => {
    const outboxDir = join(dir, 'outbox');
    const { logger, lines } = capturingLogger();
    const mailer = createMailer({ from: FROM, outboxDir, logger });
    const invitation = extranetInvitation('cs_CZ', { appName: 'Portál', signInUrl: SIGN_IN_URL });
    await mailer.send({ to: RECIPIENT, ...invitation });
    mailer.close();

    const files = await readdir(outboxDir);
    assert.equal(files.length, 1);
    const [name] = files as [string];
    assert.match(name, /^\d{4}-\d{2}-\d{2}T\d{6}\.\d{3}Z-[0-9a-f]{16}\.eml$/);
    assert.equal((await stat(outboxDir)).mode & 0o777, 0o700);
    assert.equal((await stat(join(outboxDir, name))).mode & 0o777, 0o600);

    const raw = await readFile(join(outboxDir, name));
    assert.ok(raw.includes('\r\n'), 'RFC 822 line endings');
    const parsed = await simpleParser(raw);
    assert.equal(parsed.subject, 'Pozvánka do aplikace Portál');
    assert.deepEqual([parsed.to].flat().flatMap((to) => to?.value.map((a) => a.address)), [RECIPIENT]);
    assert.equal(parsed.from?.value[0]?.address, 'keygate@example.org');
    assert.ok(parsed.text?.includes(SIGN_IN_URL));
    assert.ok(typeof parsed.html === 'string' && parsed.html.includes(`href="${SIGN_IN_URL}"`));

    const entries = lines.map((line) => JSON.parse(line) as { level: number; msg: string; file?: string });
    assert.deepEqual(
      entries.map(({ level, msg, file }) => ({ level, msg, file })),
      [{ level: 30, msg: 'mail written to the outbox', file: join(outboxDir, name) }],
    );
    const log = lines.join('');
    for (const secret of [RECIPIENT, 'jana', SIGN_IN_URL, 'Dobrý den']) assert.ok(!log.includes(secret), `log mentions ${secret}`);
  });

  it('gives every message its own file', async () => {
    const outboxDir = join(dir, 'many');
    const mailer = createMailer({ from: FROM, outboxDir, logger: capturingLogger().logger });
    await Promise.all([1, 2, 3].map((n) => mailer.send({ to: RECIPIENT, subject: `Message ${n}`, text: 'Hello' })));
    assert.equal((await readdir(outboxDir)).length, 3);
  });

  it('refuses a recipient that is not exactly one plain address, writing nothing', async () => {
    const outboxDir = join(dir, 'refused');
    const { logger, lines } = capturingLogger();
    const mailer = createMailer({ from: FROM, outboxDir, logger });
    for (const to of INVALID_RECIPIENTS) {
      await assert.rejects(mailer.send({ to, subject: 'Hi', text: 'Hello' }), (error: Error) => {
        assert.match(error.message, /single plain email address/);
        assert.ok(to === '' || !error.message.includes(to), 'error repeats the address');
        return true;
      }, JSON.stringify(to));
    }
    await assert.rejects(mailer.send({ to: RECIPIENT, subject: 'Hi\r\nBcc: victim@example.net', text: 'Hello' }), /single line/);
    await assert.rejects(readdir(outboxDir), { code: 'ENOENT' });
    assert.deepEqual(lines, []);
  });

  it('accepts ordinary and internationalised addresses', async () => {
    const outboxDir = join(dir, 'accepted');
    const mailer = createMailer({ from: FROM, outboxDir, logger: capturingLogger().logger });
    for (const to of ['a@b', 'first.last+tag@sub.example.co.uk', "o'brien@example.ie", 'jiří@příklad.cz']) {
      await mailer.send({ to, subject: 'Hi', text: 'Hello' });
    }
    assert.equal((await readdir(outboxDir)).length, 4);
  });
});

describe('mail over SMTP', () => {
  let smtp: TestSmtpServer;
  before(async () => {
    smtp = await startSmtpServer();
  });
  after(() => smtp.close());

  it('delivers the invitation in both locales to exactly one recipient', async () => {
    const { logger, lines } = capturingLogger();
    const mailer = createMailer({ smtpUrl: smtp.url, from: FROM, logger, outboxDir: '/nonexistent/never-used' });
    try {
      const english = extranetInvitation(resolveLocale(undefined), { appName: 'Supplier Portal', signInUrl: SIGN_IN_URL });
      const czech = extranetInvitation(resolveLocale('cs-CZ'), { appName: 'Portál dodavatelů', signInUrl: SIGN_IN_URL });
      await mailer.send({ to: 'en@example.com', ...english });
      await mailer.send({ to: 'cs@example.com', ...czech });

      const receivedEnglish = await smtp.waitFor((mail) => mail.to.includes('en@example.com'));
      assert.deepEqual(receivedEnglish.to, ['en@example.com']);
      assert.deepEqual(receivedEnglish.headerTo, ['en@example.com']);
      assert.equal(receivedEnglish.subject, 'Invitation to Supplier Portal');
      assert.equal(receivedEnglish.text.trim(), english.text.trim());
      assert.ok(receivedEnglish.html?.includes(`<a href="${SIGN_IN_URL}">`));

      const receivedCzech = await smtp.waitFor((mail) => mail.to.includes('cs@example.com'));
      assert.deepEqual(receivedCzech.to, ['cs@example.com']);
      assert.equal(receivedCzech.subject, 'Pozvánka do aplikace Portál dodavatelů');
      assert.match(receivedCzech.raw, /^Subject: =\?UTF-8\?/im, 'the Czech subject travels as an encoded word');
      assert.ok(receivedCzech.text.includes('přidána na seznam osob'));
      assert.ok(receivedCzech.html?.includes('Pozvánka do aplikace Portál dodavatelů'));

      const log = lines.join('');
      assert.ok(!log.includes('@example.com'), 'log mentions a recipient');
    } finally {
      mailer.close();
    }
  });

  it('authenticates with the credentials in the URL', async () => {
    const url = new URL(smtp.url);
    url.username = encodeURIComponent('mailer@example.org');
    url.password = encodeURIComponent('p@ss:w/rd');
    const mailer = createMailer({ smtpUrl: url.href, from: FROM, logger: capturingLogger().logger, outboxDir: '/nonexistent' });
    try {
      await mailer.send({ to: 'auth@example.com', subject: 'Hi', text: 'Hello' });
      const received = await smtp.waitFor((mail) => mail.to.includes('auth@example.com'));
      assert.equal(received.authUser, 'mailer@example.org');
    } finally {
      mailer.close();
    }
  });

  it('refuses a bad recipient before talking to the server', async () => {
    const mailer = createMailer({ smtpUrl: smtp.url, from: FROM, logger: capturingLogger().logger, outboxDir: '/nonexistent' });
    const before = smtp.messages.length;
    try {
      for (const to of INVALID_RECIPIENTS) {
        await assert.rejects(mailer.send({ to, subject: 'Hi', text: 'Hello' }), /single plain email address/, JSON.stringify(to));
      }
    } finally {
      mailer.close();
    }
    assert.equal(smtp.messages.length, before);
  });

  it('rejects a refused delivery without naming the recipient', async () => {
    // The server's reply quotes the address, as real servers do.
    const rejecting = new SMTPServer({
      secure: false,
      disabledCommands: ['STARTTLS'],
      authOptional: true,
      logger: false,
      closeTimeout: 1000,
      onRcptTo: (address, _session, callback) => callback(new Error(`<${address.address}>: Recipient address rejected`)),
    });
    await new Promise<void>((resolve) => rejecting.listen(0, '127.0.0.1', resolve));
    const { port } = rejecting.server.address() as AddressInfo;
    const { logger, lines } = capturingLogger();
    const mailer = createMailer({ smtpUrl: `smtp://127.0.0.1:${port}`, from: FROM, logger, outboxDir: '/nonexistent' });
    try {
      await assert.rejects(mailer.send({ to: RECIPIENT, subject: 'Hi', text: 'Hello' }), (error: Error) => {
        assert.match(error.message, /^SMTP delivery failed \(EENVELOPE/);
        assert.ok(!error.message.includes(RECIPIENT), error.message);
        assert.equal(error.cause, undefined);
        return true;
      });
      assert.ok(!lines.join('').includes(RECIPIENT));
    } finally {
      mailer.close();
      await new Promise<void>((resolve) => rejecting.close(() => resolve()));
    }
  });

  it('rejects when the server cannot be reached', async () => {
    const closed = await startSmtpServer();
    const closedUrl = closed.url;
    await closed.close();
    const mailer = createMailer({ smtpUrl: closedUrl, from: FROM, logger: capturingLogger().logger, outboxDir: '/nonexistent' });
    try {
      await assert.rejects(mailer.send({ to: RECIPIENT, subject: 'Hi', text: 'Hello' }), /^Error: SMTP delivery failed \(ESOCKET CONN\)$/);
    } finally {
      mailer.close();
    }
  });

  it('refuses a URL that is not smtp:// or smtps://', () => {
    assert.throws(
      () => createMailer({ smtpUrl: 'http://127.0.0.1:25', from: FROM, logger: capturingLogger().logger, outboxDir: '/nonexistent' }),
      /smtp:\/\/ or smtps:\/\//,
    );
  });
});
