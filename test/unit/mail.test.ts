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
import { accountMessage, extranetInvitation, LOCALES, resolveLocale, type AccountMessage, type Locale } from '../../src/mail/messages.js';
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
  it('resolves Czech and German in their usual spellings and falls back to British English', () => {
    for (const czech of ['cs', 'CS', 'cs_CZ', 'cs-CZ', 'CS-cz', 'cs_cz', ' cs-CZ ']) assert.equal(resolveLocale(czech), 'cs_CZ', czech);
    for (const german of ['de', 'DE', 'de_DE', 'de-DE', 'de-de', 'DE-de', ' de_DE ', 'de-AT', 'de_AT', 'DE-at', 'de-CH', 'de_ch', 'De-Ch']) {
      assert.equal(resolveLocale(german), 'de_DE', german);
    }
    for (const other of [undefined, '', 'en', 'en_GB', 'en-US', 'sk', 'czech', 'cs_CZ_x', 'cs-SK', 'german', 'de_DE_x', 'de-LU', 'de-BE', 'deu', 'nl-DE', '<script>']) {
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

  it('invites to the app in German', () => {
    const mail = extranetInvitation('de_DE', { appName: 'Lieferantenportal', signInUrl: SIGN_IN_URL });
    assert.equal(mail.subject, 'Einladung zu Lieferantenportal');
    assert.match(mail.text, /^Guten Tag,/);
    assert.match(mail.text, /Liste der Personen aufgenommen, die sich dort anmelden dürfen/);
    assert.ok(mail.text.includes(SIGN_IN_URL));
    assert.ok(mail.html.includes(`<a href="${SIGN_IN_URL}">${SIGN_IN_URL}</a>`));
    assert.match(mail.html, /<html lang="de-DE">/);
  });

  it('escapes the app name and the URL in HTML', () => {
    const appName = '<script>alert("x")</script> & <img src=x onerror=alert(1)>';
    const signInUrl = 'https://app.example.org/sign-in?next="><script>alert(1)</script>';
    for (const locale of LOCALES) {
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

const LINK = 'https://keygate.example.org/reset/tok3n';
const WHEN = '2026-12-02 16:51';

/** One of every account message, with the numbers the domain passes. */
function everyAccountMessage(counts: { minutes: number; days: number }): AccountMessage[] {
  const { minutes, days } = counts;
  return [
    { kind: 'signUpCode', params: { code: '123456', minutes } },
    { kind: 'signUpExisting', params: { signInUrl: SIGN_IN_URL } },
    { kind: 'passwordReset', params: { link: LINK, minutes } },
    { kind: 'signInCode', params: { code: '654321', minutes } },
    { kind: 'newDeviceSignIn', params: { when: WHEN } },
    { kind: 'signInPaused', params: { minutes } },
    { kind: 'secondFactorEnrolled', params: { link: LINK, days } },
    { kind: 'emailChangeCode', params: { code: '112233', minutes } },
    { kind: 'emailChangeTaken', params: {} },
    { kind: 'emailChanged', params: { when: WHEN } },
    { kind: 'ownerInvitation', params: { appName: 'Supplier Portal', link: LINK, days } },
  ];
}

const HTML_LANG: Record<Locale, string> = { en_GB: 'en-GB', cs_CZ: 'cs', de_DE: 'de-DE' };

describe('account mail in every locale', () => {
  it('renders every message in every locale, whole, with its link, code, time and number', () => {
    for (const counts of [{ minutes: 1, days: 1 }, { minutes: 3, days: 2 }, { minutes: 30, days: 7 }]) {
      for (const message of everyAccountMessage(counts)) {
        const rendered = Object.fromEntries(LOCALES.map((locale) => [locale, accountMessage(locale, message)]));
        for (const locale of LOCALES) {
          const mail = rendered[locale]!;
          const where = `${message.kind} in ${locale} (${JSON.stringify(counts)})`;
          for (const part of [mail.subject, mail.text, mail.html]) {
            assert.ok(part.trim().length > 0, where);
            for (const bad of ['undefined', 'NaN', '[object', 'null']) assert.ok(!part.includes(bad), `${where} contains ${bad}: ${part}`);
          }
          assert.doesNotMatch(mail.subject, /[\r\n]/, where);
          assert.ok(mail.html.includes(`<html lang="${HTML_LANG[locale]}">`), where);
          const params = message.params as Record<string, unknown>;
          for (const key of ['link', 'signInUrl'] as const) {
            const link = params[key];
            if (typeof link === 'string') {
              assert.ok(mail.text.includes(link), where);
              assert.ok(mail.html.includes(`<a href="${link}">${link}</a>`), where);
            }
          }
          if (typeof params.code === 'string') {
            assert.ok(mail.subject.includes(params.code), where);
            assert.ok(mail.text.includes(params.code), where);
          }
          if (typeof params.when === 'string') assert.ok(mail.text.includes(`${params.when} (UTC)`), where);
          if (typeof params.appName === 'string') assert.ok(mail.subject.includes(params.appName) && mail.text.includes(params.appName), where);
          for (const key of ['minutes', 'days'] as const) {
            if (typeof params[key] === 'number') assert.match(mail.text, new RegExp(`(^|\\D)${params[key]} \\p{L}`, 'u'), where);
          }
        }
        assert.notEqual(rendered.de_DE!.subject, rendered.en_GB!.subject, message.kind);
        assert.notEqual(rendered.de_DE!.subject, rendered.cs_CZ!.subject, message.kind);
        assert.notEqual(rendered.de_DE!.text, rendered.en_GB!.text, message.kind);
        assert.match(rendered.de_DE!.text, /^Guten Tag,\n\n/, message.kind);
      }
    }
  });

  it('agrees the minutes and days with their number', () => {
    const text = (locale: Locale, message: AccountMessage) => accountMessage(locale, message).text;
    const code = (minutes: number): AccountMessage => ({ kind: 'signInCode', params: { code: '123456', minutes } });
    const paused = (minutes: number): AccountMessage => ({ kind: 'signInPaused', params: { minutes } });
    const undo = (days: number): AccountMessage => ({ kind: 'secondFactorEnrolled', params: { link: LINK, days } });
    const owner = (days: number): AccountMessage => ({ kind: 'ownerInvitation', params: { appName: 'App', link: LINK, days } });

    assert.match(text('de_DE', code(1)), /ist 1 Minute lang gültig\./);
    assert.match(text('de_DE', code(10)), /ist 10 Minuten lang gültig\./);
    assert.match(text('de_DE', paused(1)), /für 1 Minute gesperrt/);
    assert.match(text('de_DE', paused(4)), /für 4 Minuten gesperrt/);
    assert.match(text('de_DE', undo(1)), /ist 1 Tag lang gültig\./);
    assert.match(text('de_DE', undo(7)), /ist 7 Tage lang gültig\./);
    assert.match(text('de_DE', owner(7)), /ist 7 Tage lang gültig:/);

    assert.match(text('en_GB', code(1)), /It works once, for 1 minute\. /);
    assert.match(text('en_GB', code(10)), /It works once, for 10 minutes\. /);
    assert.match(text('en_GB', paused(1)), /is paused for 1 minute\. /);
    assert.match(text('en_GB', undo(1)), /It works once, for 1 day\./);
    assert.match(text('en_GB', owner(7)), /It works once, for 7 days:/);

    assert.match(text('cs_CZ', code(1)), /po dobu 1 minuty\. /);
    assert.match(text('cs_CZ', code(3)), /po dobu 3 minut\. /);
    assert.match(text('cs_CZ', code(10)), /po dobu 10 minut\. /);
    assert.match(text('cs_CZ', paused(1)), /na 1 minutu pozastaveno/);
    assert.match(text('cs_CZ', paused(3)), /na 3 minuty pozastaveno/);
    assert.match(text('cs_CZ', paused(15)), /na 15 minut pozastaveno/);
    assert.match(text('cs_CZ', undo(1)), /po dobu 1 dne\./);
    assert.match(text('cs_CZ', undo(7)), /po dobu 7 dní\./);
    assert.match(text('cs_CZ', owner(7)), /po dobu 7 dnů:/);
  });

  it('keeps the app name of an owner invitation on one line in every locale', () => {
    for (const locale of LOCALES) {
      const mail = accountMessage(locale, { kind: 'ownerInvitation', params: { appName: 'Two\r\nLines', link: LINK, days: 7 } });
      assert.ok(mail.subject.includes('Two Lines'), locale);
      assert.doesNotMatch(mail.subject, /[\r\n]/, locale);
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

  it('delivers the invitation in every locale to exactly one recipient', async () => {
    const { logger, lines } = capturingLogger();
    const mailer = createMailer({ smtpUrl: smtp.url, from: FROM, logger, outboxDir: '/nonexistent/never-used' });
    try {
      const english = extranetInvitation(resolveLocale(undefined), { appName: 'Supplier Portal', signInUrl: SIGN_IN_URL });
      const czech = extranetInvitation(resolveLocale('cs-CZ'), { appName: 'Portál dodavatelů', signInUrl: SIGN_IN_URL });
      const german = extranetInvitation(resolveLocale('de-AT'), { appName: 'Lieferantenportal Süd', signInUrl: SIGN_IN_URL });
      await mailer.send({ to: 'en@example.com', ...english });
      await mailer.send({ to: 'cs@example.com', ...czech });
      await mailer.send({ to: 'de@example.com', ...german });

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

      const receivedGerman = await smtp.waitFor((mail) => mail.to.includes('de@example.com'));
      assert.deepEqual(receivedGerman.to, ['de@example.com']);
      assert.equal(receivedGerman.subject, 'Einladung zu Lieferantenportal Süd');
      assert.equal(receivedGerman.text.trim(), german.text.trim());
      assert.ok(receivedGerman.html?.includes('<html lang="de-DE">'));

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
