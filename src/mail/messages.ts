export const LOCALES = ['en_GB', 'cs_CZ', 'de_DE'] as const;
export type Locale = (typeof LOCALES)[number];

/**
 * Czech for `cs`, `cs_CZ` or `cs-CZ`; German for `de`, `de_DE`, `de-DE`, `de-AT` or
 * `de-CH` (each in any case, with `-` or `_`); British English for anything else.
 */
export function resolveLocale(requested: string | undefined): Locale {
  const tag = requested?.trim().toLowerCase().replace('-', '_');
  if (tag === 'cs' || tag === 'cs_cz') return 'cs_CZ';
  if (tag === 'de' || tag === 'de_de' || tag === 'de_at' || tag === 'de_ch') return 'de_DE';
  return 'en_GB';
}

/** The words for a count, by CLDR plural category; `other` stands in for any category left out. */
type PluralForms = Partial<Record<Intl.LDMLPluralRule, string>> & { other: string };

/** `n` and the word that agrees with it in `language`, e.g. "1 minute", "30 minutes". */
function counter(language: string): (n: number, forms: PluralForms) => string {
  const rules = new Intl.PluralRules(language);
  return (n, forms) => `${n} ${forms[rules.select(n)] ?? forms.other}`;
}

const enCount = counter('en');
const csCount = counter('cs');
const deCount = counter('de');

const enMinutes = (n: number) => enCount(n, { one: 'minute', other: 'minutes' });
const enDays = (n: number) => enCount(n, { one: 'day', other: 'days' });
/** After "po dobu" (genitive): 1 minuty, 2 minut, 5 minut. */
const csMinutesGenitive = (n: number) => csCount(n, { one: 'minuty', many: 'minuty', other: 'minut' });
/** After "na" (accusative): 1 minutu, 2 minuty, 5 minut. */
const csMinutesAccusative = (n: number) => csCount(n, { one: 'minutu', few: 'minuty', many: 'minuty', other: 'minut' });
/** After "po dobu" (genitive): 1 dne, 2 dní/dnů, 5 dní/dnů. */
const csDaysGenitive = (n: number, plural: 'dní' | 'dnů') => csCount(n, { one: 'dne', many: 'dne', other: plural });
const deMinutes = (n: number) => deCount(n, { one: 'Minute', other: 'Minuten' });
const deDays = (n: number) => deCount(n, { one: 'Tag', other: 'Tage' });

export interface RenderedMail {
  subject: string;
  text: string;
  html: string;
}

export interface ExtranetInvitationParams {
  appName: string;
  signInUrl: string;
}

/** A paragraph of plain text, or a link shown as its own URL. */
type Block = string | { link: string };

interface MailContent {
  subject: string;
  blocks: Block[];
}

export interface CodeParams {
  code: string;
  minutes: number;
}

export interface LinkParams {
  link: string;
  minutes: number;
}

/** Every message in every locale: a message added here must be translated before it compiles. */
interface Catalogue {
  htmlLang: string;
  extranetInvitation(params: ExtranetInvitationParams): MailContent;
  /** The code that confirms a new account's address. */
  signUpCode(params: CodeParams): MailContent;
  /** Someone tried to create an account with an address that already has one. */
  signUpExisting(params: { signInUrl: string }): MailContent;
  passwordReset(params: LinkParams): MailContent;
  signInCode(params: CodeParams): MailContent;
  newDeviceSignIn(params: { when: string }): MailContent;
  signInPaused(params: { minutes: number }): MailContent;
  /** A second factor was turned on or replaced; the link undoes it if that was not the person. */
  secondFactorEnrolled(params: { link: string; days: number }): MailContent;
  /** The code that confirms a new address for an existing account. */
  emailChangeCode(params: CodeParams): MailContent;
  /** Someone tried to move their account to an address that already has one. */
  emailChangeTaken(params: Record<string, never>): MailContent;
  /** To the old address, once the account moved to a new one. */
  emailChanged(params: { when: string }): MailContent;
  /** An owner of an app invites this account to become an owner too. */
  ownerInvitation(params: OwnerInvitationParams): MailContent;
}

export interface OwnerInvitationParams {
  appName: string;
  /** Keygate's page where the invitee accepts or declines. */
  link: string;
  days: number;
}

const CATALOGUES: Record<Locale, Catalogue> = {
  en_GB: {
    htmlLang: 'en-GB',
    extranetInvitation: ({ appName, signInUrl }) => ({
      subject: `Invitation to ${appName}`,
      blocks: [
        'Hello,',
        `You have been invited to ${appName}, a private application. Your email address has been added to its list of people who are allowed to sign in.`,
        `Keygate, the sign-in service ${appName} uses, sends this message for the app's owners. This page on Keygate shows where to continue:`,
        { link: signInUrl },
        'If you were not expecting this invitation, you can safely ignore this email.',
      ],
    }),
    signUpCode: ({ code, minutes }) => ({
      subject: `Your Keygate code: ${code}`,
      blocks: [
        'Hello,',
        `To confirm your email address and finish creating your Keygate account, enter this code: ${code}`,
        `It works once, for ${enMinutes(minutes)}.`,
        'If you did not try to create an account, ignore this email: no account is used until the code is entered.',
      ],
    }),
    signUpExisting: ({ signInUrl }) => ({
      subject: 'You already have a Keygate account',
      blocks: [
        'Hello,',
        'Someone just tried to create a Keygate account with this email address, but you already have one. No new account was created.',
        'If it was you, sign in instead, or reset your password from the sign-in page:',
        { link: signInUrl },
        'If it was not you, you can ignore this email; your account is unchanged.',
      ],
    }),
    passwordReset: ({ link, minutes }) => ({
      subject: 'Reset your Keygate password',
      blocks: [
        'Hello,',
        `Use this link to choose a new password. It works once, for ${enMinutes(minutes)}:`,
        { link },
        'Choosing a new password signs you out everywhere. If you did not ask for this, ignore this email: your password is unchanged.',
      ],
    }),
    signInCode: ({ code, minutes }) => ({
      subject: `Your Keygate sign-in code: ${code}`,
      blocks: [
        'Hello,',
        `Enter this code to sign in: ${code}`,
        `It works once, for ${enMinutes(minutes)}. Never tell it to anyone: Keygate never asks for it.`,
        'If you did not try to sign in, ignore this email.',
      ],
    }),
    newDeviceSignIn: ({ when }) => ({
      subject: 'New sign-in to your Keygate account',
      blocks: [
        'Hello,',
        `Your Keygate account was signed in to from a new device or browser on ${when} (UTC).`,
        'If this was you, there is nothing to do. If not, reset your password now: that signs out every device.',
      ],
    }),
    signInPaused: ({ minutes }) => ({
      subject: 'Sign-in to your Keygate account was paused',
      blocks: [
        'Hello,',
        `After several wrong passwords, sign-in to your Keygate account is paused for ${enMinutes(minutes)}. Your password still works after that.`,
        'If this was not you, someone may be guessing your password: choose a new, strong one once the pause ends.',
      ],
    }),
    secondFactorEnrolled: ({ link, days }) => ({
      subject: 'A second factor was set up for your Keygate account',
      blocks: [
        'Hello,',
        'An authenticator app was just set up as the second factor of your Keygate account: from now on, signing in needs a code from it.',
        `If this was you, there is nothing to do. If it was not, open this link: it removes that authenticator app and signs out every device. It works once, for ${enDays(days)}.`,
        { link },
        'Then reset your password, since whoever did this knew it.',
      ],
    }),
    emailChangeCode: ({ code, minutes }) => ({
      subject: `Your Keygate code: ${code}`,
      blocks: [
        'Hello,',
        `To make this address the sign-in email of your Keygate account, enter this code: ${code}`,
        `It works once, for ${enMinutes(minutes)}.`,
        'If you did not ask for this, ignore this email: nothing changes until the code is entered.',
      ],
    }),
    emailChangeTaken: () => ({
      subject: 'This address already has a Keygate account',
      blocks: [
        'Hello,',
        'Someone just tried to change the email of their Keygate account to this address, but it already belongs to an account. Nothing was changed.',
        'If it was not you, you can ignore this email; your account is unchanged.',
      ],
    }),
    emailChanged: ({ when }) => ({
      subject: 'The email of your Keygate account was changed',
      blocks: [
        'Hello,',
        `On ${when} (UTC) the sign-in email of your Keygate account was changed from this address to another one. This address no longer signs in.`,
        'If this was not you, someone has your password: reset it from the sign-in page with your new address, or contact the operator of this Keygate.',
      ],
    }),
    ownerInvitation: ({ appName, link, days }) => ({
      subject: `Invitation to become an owner of ${appName}`,
      blocks: [
        'Hello,',
        `An owner of the app ${appName} invited your Keygate account to become one of its owners. Owners manage the app in the Keygate dashboard: its settings, its keys and who may sign in.`,
        `To accept or decline, open this link and sign in with this account. It works once, for ${enDays(days)}:`,
        { link },
        'If you do not know this app, ignore this email: nothing changes unless you accept.',
      ],
    }),
  },
  cs_CZ: {
    htmlLang: 'cs',
    extranetInvitation: ({ appName, signInUrl }) => ({
      subject: `Pozvánka do aplikace ${appName}`,
      blocks: [
        'Dobrý den,',
        `zveme vás do neveřejné aplikace ${appName}. Vaše e-mailová adresa byla přidána na seznam osob, které se do ní mohou přihlásit.`,
        `Tuto zprávu posílá jménem vlastníků aplikace Keygate, přihlašovací služba, kterou ${appName} používá. Kam pokračovat, najdete na této stránce Keygate:`,
        { link: signInUrl },
        'Pokud tuto pozvánku nečekáte, můžete tento e-mail bez obav ignorovat.',
      ],
    }),
    signUpCode: ({ code, minutes }) => ({
      subject: `Váš kód pro Keygate: ${code}`,
      blocks: [
        'Dobrý den,',
        `pro potvrzení e-mailové adresy a dokončení registrace účtu Keygate zadejte tento kód: ${code}`,
        `Platí jednou, po dobu ${csMinutesGenitive(minutes)}.`,
        'Pokud jste se neregistrovali, tento e-mail ignorujte: bez zadání kódu se žádný účet nepoužije.',
      ],
    }),
    signUpExisting: ({ signInUrl }) => ({
      subject: 'Účet Keygate už máte',
      blocks: [
        'Dobrý den,',
        'někdo se právě pokusil založit účet Keygate s touto e-mailovou adresou, ale účet už máte. Nový účet nevznikl.',
        'Pokud jste to byli vy, přihlaste se, nebo si na přihlašovací stránce nastavte nové heslo:',
        { link: signInUrl },
        'Pokud jste to nebyli vy, tento e-mail ignorujte; váš účet se nezměnil.',
      ],
    }),
    passwordReset: ({ link, minutes }) => ({
      subject: 'Nastavení nového hesla Keygate',
      blocks: [
        'Dobrý den,',
        `nové heslo si zvolíte na tomto odkazu. Platí jednou, po dobu ${csMinutesGenitive(minutes)}:`,
        { link },
        'Nové heslo vás odhlásí ze všech zařízení. Pokud jste o změnu nežádali, tento e-mail ignorujte: heslo zůstává stejné.',
      ],
    }),
    signInCode: ({ code, minutes }) => ({
      subject: `Váš přihlašovací kód Keygate: ${code}`,
      blocks: [
        'Dobrý den,',
        `pro přihlášení zadejte tento kód: ${code}`,
        `Platí jednou, po dobu ${csMinutesGenitive(minutes)}. Nikomu ho nesdělujte: Keygate se na něj nikdy neptá.`,
        'Pokud jste se nepřihlašovali, tento e-mail ignorujte.',
      ],
    }),
    newDeviceSignIn: ({ when }) => ({
      subject: 'Nové přihlášení k účtu Keygate',
      blocks: [
        'Dobrý den,',
        `k vašemu účtu Keygate se ${when} (UTC) přihlásilo nové zařízení nebo prohlížeč.`,
        'Pokud jste to byli vy, nemusíte nic dělat. Pokud ne, nastavte si hned nové heslo: tím se odhlásí všechna zařízení.',
      ],
    }),
    signInPaused: ({ minutes }) => ({
      subject: 'Přihlašování k účtu Keygate je pozastaveno',
      blocks: [
        'Dobrý den,',
        `po několika špatně zadaných heslech je přihlašování k vašemu účtu Keygate na ${csMinutesAccusative(minutes)} pozastaveno. Poté bude heslo opět fungovat.`,
        'Pokud jste to nebyli vy, někdo možná hádá vaše heslo: po skončení pauzy si zvolte nové, silné heslo.',
      ],
    }),
    secondFactorEnrolled: ({ link, days }) => ({
      subject: 'K vašemu účtu Keygate byl nastaven druhý faktor',
      blocks: [
        'Dobrý den,',
        'k vašemu účtu Keygate byla právě nastavena ověřovací aplikace jako druhý faktor: přihlášení od teď vyžaduje kód z ní.',
        `Pokud jste to byli vy, nemusíte nic dělat. Pokud ne, otevřete tento odkaz: odebere tuto ověřovací aplikaci a odhlásí všechna zařízení. Platí jednou, po dobu ${csDaysGenitive(days, 'dní')}.`,
        { link },
        'Potom si nastavte nové heslo, protože ten, kdo to udělal, ho znal.',
      ],
    }),
    emailChangeCode: ({ code, minutes }) => ({
      subject: `Váš kód pro Keygate: ${code}`,
      blocks: [
        'Dobrý den,',
        `aby se tato adresa stala přihlašovacím e-mailem vašeho účtu Keygate, zadejte tento kód: ${code}`,
        `Platí jednou, po dobu ${csMinutesGenitive(minutes)}.`,
        'Pokud jste o změnu nežádali, tento e-mail ignorujte: bez zadání kódu se nic nezmění.',
      ],
    }),
    emailChangeTaken: () => ({
      subject: 'K této adrese už účet Keygate existuje',
      blocks: [
        'Dobrý den,',
        'někdo se právě pokusil změnit e-mail svého účtu Keygate na tuto adresu, ale ta už patří jinému účtu. Nic se nezměnilo.',
        'Pokud jste to nebyli vy, tento e-mail ignorujte; váš účet se nezměnil.',
      ],
    }),
    emailChanged: ({ when }) => ({
      subject: 'E-mail vašeho účtu Keygate byl změněn',
      blocks: [
        'Dobrý den,',
        `${when} (UTC) byl přihlašovací e-mail vašeho účtu Keygate změněn z této adresy na jinou. Touto adresou se už přihlásit nelze.`,
        'Pokud jste to nebyli vy, někdo zná vaše heslo: nastavte si nové na přihlašovací stránce pomocí nové adresy, nebo kontaktujte provozovatele tohoto Keygate.',
      ],
    }),
    ownerInvitation: ({ appName, link, days }) => ({
      subject: `Pozvánka mezi vlastníky aplikace ${appName}`,
      blocks: [
        'Dobrý den,',
        `vlastník aplikace ${appName} pozval váš účet Keygate mezi její vlastníky. Vlastníci spravují aplikaci v administraci Keygate: její nastavení, klíče a to, kdo se může přihlásit.`,
        `Pozvánku přijmete nebo odmítnete na tomto odkazu po přihlášení tímto účtem. Platí jednou, po dobu ${csDaysGenitive(days, 'dnů')}:`,
        { link },
        'Pokud tuto aplikaci neznáte, tento e-mail ignorujte: bez přijetí se nic nezmění.',
      ],
    }),
  },
  de_DE: {
    htmlLang: 'de-DE',
    extranetInvitation: ({ appName, signInUrl }) => ({
      subject: `Einladung zu ${appName}`,
      blocks: [
        'Guten Tag,',
        `Sie wurden zur nicht öffentlichen App ${appName} eingeladen. Ihre E-Mail-Adresse wurde in die Liste der Personen aufgenommen, die sich dort anmelden dürfen.`,
        `Keygate, der Anmeldedienst, den ${appName} verwendet, sendet diese Nachricht im Auftrag der Inhaber der App. Auf dieser Seite von Keygate erfahren Sie, wie es weitergeht:`,
        { link: signInUrl },
        'Falls Sie diese Einladung nicht erwartet haben, können Sie diese E-Mail einfach ignorieren.',
      ],
    }),
    signUpCode: ({ code, minutes }) => ({
      subject: `Ihr Keygate-Code: ${code}`,
      blocks: [
        'Guten Tag,',
        `um Ihre E-Mail-Adresse zu bestätigen und die Einrichtung Ihres Keygate-Kontos abzuschließen, geben Sie diesen Code ein: ${code}`,
        `Er kann einmal verwendet werden und ist ${deMinutes(minutes)} lang gültig.`,
        'Falls Sie kein Konto anlegen wollten, ignorieren Sie diese E-Mail: Solange der Code nicht eingegeben wird, wird kein Konto verwendet.',
      ],
    }),
    signUpExisting: ({ signInUrl }) => ({
      subject: 'Sie haben bereits ein Keygate-Konto',
      blocks: [
        'Guten Tag,',
        'jemand hat gerade versucht, mit dieser E-Mail-Adresse ein Keygate-Konto anzulegen, aber Sie haben bereits eines. Es wurde kein neues Konto angelegt.',
        'Falls Sie das waren, melden Sie sich stattdessen an oder setzen Sie Ihr Passwort auf der Anmeldeseite zurück:',
        { link: signInUrl },
        'Falls Sie das nicht waren, können Sie diese E-Mail ignorieren; Ihr Konto bleibt unverändert.',
      ],
    }),
    passwordReset: ({ link, minutes }) => ({
      subject: 'Ihr Keygate-Passwort zurücksetzen',
      blocks: [
        'Guten Tag,',
        `über diesen Link wählen Sie ein neues Passwort. Er kann einmal verwendet werden und ist ${deMinutes(minutes)} lang gültig:`,
        { link },
        'Mit einem neuen Passwort werden Sie überall abgemeldet. Falls Sie das nicht angefordert haben, ignorieren Sie diese E-Mail: Ihr Passwort bleibt unverändert.',
      ],
    }),
    signInCode: ({ code, minutes }) => ({
      subject: `Ihr Keygate-Anmeldecode: ${code}`,
      blocks: [
        'Guten Tag,',
        `geben Sie diesen Code ein, um sich anzumelden: ${code}`,
        `Er kann einmal verwendet werden und ist ${deMinutes(minutes)} lang gültig. Geben Sie ihn niemals weiter: Keygate fragt nie danach.`,
        'Falls Sie nicht versucht haben, sich anzumelden, ignorieren Sie diese E-Mail.',
      ],
    }),
    newDeviceSignIn: ({ when }) => ({
      subject: 'Neue Anmeldung bei Ihrem Keygate-Konto',
      blocks: [
        'Guten Tag,',
        `am ${when} (UTC) hat sich ein neues Gerät oder ein neuer Browser bei Ihrem Keygate-Konto angemeldet.`,
        'Falls Sie das waren, müssen Sie nichts tun. Falls nicht, setzen Sie jetzt Ihr Passwort zurück: Dadurch werden alle Geräte abgemeldet.',
      ],
    }),
    signInPaused: ({ minutes }) => ({
      subject: 'Die Anmeldung bei Ihrem Keygate-Konto wurde vorübergehend gesperrt',
      blocks: [
        'Guten Tag,',
        `nach mehreren falschen Passwörtern ist die Anmeldung bei Ihrem Keygate-Konto für ${deMinutes(minutes)} gesperrt. Danach funktioniert Ihr Passwort wieder.`,
        'Falls Sie das nicht waren, versucht möglicherweise jemand, Ihr Passwort zu erraten: Wählen Sie nach Ablauf der Sperre ein neues, sicheres Passwort.',
      ],
    }),
    secondFactorEnrolled: ({ link, days }) => ({
      subject: 'Für Ihr Keygate-Konto wurde ein zweiter Faktor eingerichtet',
      blocks: [
        'Guten Tag,',
        'soeben wurde eine Authenticator-App als zweiter Faktor Ihres Keygate-Kontos eingerichtet: Ab jetzt ist für die Anmeldung ein Code aus dieser App nötig.',
        `Falls Sie das waren, müssen Sie nichts tun. Falls nicht, öffnen Sie diesen Link: Er entfernt diese Authenticator-App und meldet alle Geräte ab. Er kann einmal verwendet werden und ist ${deDays(days)} lang gültig.`,
        { link },
        'Setzen Sie danach Ihr Passwort zurück, denn wer das getan hat, kannte es.',
      ],
    }),
    emailChangeCode: ({ code, minutes }) => ({
      subject: `Ihr Keygate-Code: ${code}`,
      blocks: [
        'Guten Tag,',
        `um diese Adresse zur Anmelde-E-Mail-Adresse Ihres Keygate-Kontos zu machen, geben Sie diesen Code ein: ${code}`,
        `Er kann einmal verwendet werden und ist ${deMinutes(minutes)} lang gültig.`,
        'Falls Sie das nicht angefordert haben, ignorieren Sie diese E-Mail: Solange der Code nicht eingegeben wird, ändert sich nichts.',
      ],
    }),
    emailChangeTaken: () => ({
      subject: 'Zu dieser Adresse gibt es bereits ein Keygate-Konto',
      blocks: [
        'Guten Tag,',
        'jemand hat gerade versucht, die E-Mail-Adresse seines Keygate-Kontos in diese Adresse zu ändern, aber sie gehört bereits zu einem Konto. Es wurde nichts geändert.',
        'Falls Sie das nicht waren, können Sie diese E-Mail ignorieren; Ihr Konto bleibt unverändert.',
      ],
    }),
    emailChanged: ({ when }) => ({
      subject: 'Die E-Mail-Adresse Ihres Keygate-Kontos wurde geändert',
      blocks: [
        'Guten Tag,',
        `am ${when} (UTC) wurde die Anmelde-E-Mail-Adresse Ihres Keygate-Kontos von dieser Adresse in eine andere geändert. Mit dieser Adresse ist keine Anmeldung mehr möglich.`,
        'Falls Sie das nicht waren, kennt jemand Ihr Passwort: Setzen Sie es auf der Anmeldeseite mit Ihrer neuen Adresse zurück oder wenden Sie sich an den Betreiber dieser Keygate-Installation.',
      ],
    }),
    ownerInvitation: ({ appName, link, days }) => ({
      subject: `Einladung, Inhaber von ${appName} zu werden`,
      blocks: [
        'Guten Tag,',
        `ein Inhaber der App ${appName} hat Ihr Keygate-Konto eingeladen, ebenfalls Inhaber zu werden. Inhaber verwalten die App im Keygate-Dashboard: ihre Einstellungen, ihre Schlüssel und wer sich anmelden darf.`,
        `Um die Einladung anzunehmen oder abzulehnen, öffnen Sie diesen Link und melden Sie sich mit diesem Konto an. Er kann einmal verwendet werden und ist ${deDays(days)} lang gültig:`,
        { link },
        'Falls Sie diese App nicht kennen, ignorieren Sie diese E-Mail: Ohne Ihre Zustimmung ändert sich nichts.',
      ],
    }),
  },
};

export function extranetInvitation(locale: Locale, params: ExtranetInvitationParams): RenderedMail {
  assertWebUrl(params.signInUrl);
  // A name spread over several lines would otherwise break the one-line Subject header.
  const appName = oneLine(params.appName);
  return render(CATALOGUES[locale], CATALOGUES[locale].extranetInvitation({ appName, signInUrl: params.signInUrl }));
}

/** Every account message, by name, as the domain sends them. */
export type AccountMessage =
  | { kind: 'signUpCode'; params: CodeParams }
  | { kind: 'signUpExisting'; params: { signInUrl: string } }
  | { kind: 'passwordReset'; params: LinkParams }
  | { kind: 'signInCode'; params: CodeParams }
  | { kind: 'newDeviceSignIn'; params: { when: string } }
  | { kind: 'signInPaused'; params: { minutes: number } }
  | { kind: 'secondFactorEnrolled'; params: { link: string; days: number } }
  | { kind: 'emailChangeCode'; params: CodeParams }
  | { kind: 'emailChangeTaken'; params: Record<string, never> }
  | { kind: 'emailChanged'; params: { when: string } }
  | { kind: 'ownerInvitation'; params: OwnerInvitationParams };

export function accountMessage(locale: Locale, message: AccountMessage): RenderedMail {
  const catalogue = CATALOGUES[locale];
  if ('link' in message.params) assertWebUrl(message.params.link);
  if ('signInUrl' in message.params) assertWebUrl(message.params.signInUrl);
  // A name spread over several lines would otherwise break the one-line Subject header.
  const params: AccountMessage['params'] = message.kind === 'ownerInvitation' ? { ...message.params, appName: oneLine(message.params.appName) } : message.params;
  // Each kind takes its own params; the union keeps them paired.
  const content = (catalogue[message.kind] as (params: AccountMessage['params']) => MailContent)(params);
  return render(catalogue, content);
}

const oneLine = (text: string): string => text.replace(/\s+/g, ' ').trim();

function assertWebUrl(url: string): void {
  const protocol = URL.canParse(url) ? new URL(url).protocol : '';
  if (protocol !== 'https:' && protocol !== 'http:') throw new Error('a link in an email must be an absolute http(s) URL');
}

// Mail keeps its own escaper rather than the pages' `html` template: a message has a few
// paragraphs and links of plain text, and mail must not depend on the HTTP layer.
const ESCAPES: Record<string, string> = { '&': '&amp;', '<': '&lt;', '>': '&gt;', '"': '&quot;', "'": '&#39;' };
const escape = (text: string): string => text.replace(/[&<>"']/g, (c) => ESCAPES[c]!);

function render(catalogue: Catalogue, { subject, blocks }: MailContent): RenderedMail {
  const text = blocks.map((block) => (typeof block === 'string' ? block : block.link)).join('\n\n') + '\n';
  const paragraphs = blocks.map((block) =>
    typeof block === 'string' ? `<p>${escape(block)}</p>` : `<p><a href="${escape(block.link)}">${escape(block.link)}</a></p>`,
  ).join('');
  const page = `<!doctype html>
<html lang="${escape(catalogue.htmlLang)}">
<head><meta charset="utf-8"><title>${escape(subject)}</title></head>
<body>
${paragraphs}
</body>
</html>
`;
  return { subject, text, html: page };
}
