import { html } from '../http/html.js';

export const LOCALES = ['en_GB', 'cs_CZ'] as const;
export type Locale = (typeof LOCALES)[number];

/** Czech for `cs`, `cs_CZ` or `cs-CZ` in any case; British English for anything else. */
export function resolveLocale(requested: string | undefined): Locale {
  const tag = requested?.trim().toLowerCase().replace('-', '_');
  return tag === 'cs' || tag === 'cs_cz' ? 'cs_CZ' : 'en_GB';
}

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

/** Every message in every locale: a message added here must be translated before it compiles. */
interface Catalogue {
  htmlLang: string;
  extranetInvitation(params: ExtranetInvitationParams): MailContent;
}

const CATALOGUES: Record<Locale, Catalogue> = {
  en_GB: {
    htmlLang: 'en-GB',
    extranetInvitation: ({ appName, signInUrl }) => ({
      subject: `Invitation to ${appName}`,
      blocks: [
        'Hello,',
        `You have been invited to ${appName}, a private application. Your email address has been added to its list of people who are allowed to sign in.`,
        'You can sign in here:',
        { link: signInUrl },
        'If you were not expecting this invitation, you can safely ignore this email.',
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
        'Přihlásit se můžete zde:',
        { link: signInUrl },
        'Pokud tuto pozvánku nečekáte, můžete tento e-mail bez obav ignorovat.',
      ],
    }),
  },
};

export function extranetInvitation(locale: Locale, params: ExtranetInvitationParams): RenderedMail {
  assertWebUrl(params.signInUrl);
  // A name spread over several lines would otherwise break the one-line Subject header.
  const appName = params.appName.replace(/\s+/g, ' ').trim();
  return render(CATALOGUES[locale], CATALOGUES[locale].extranetInvitation({ appName, signInUrl: params.signInUrl }));
}

function assertWebUrl(url: string): void {
  const protocol = URL.canParse(url) ? new URL(url).protocol : '';
  if (protocol !== 'https:' && protocol !== 'http:') throw new Error('a link in an email must be an absolute http(s) URL');
}

function render(catalogue: Catalogue, { subject, blocks }: MailContent): RenderedMail {
  const text = blocks.map((block) => (typeof block === 'string' ? block : block.link)).join('\n\n') + '\n';
  const paragraphs = blocks.map((block) =>
    typeof block === 'string' ? html`<p>${block}</p>` : html`<p><a href="${block.link}">${block.link}</a></p>`,
  );
  const page = html`<!doctype html>
<html lang="${catalogue.htmlLang}">
<head><meta charset="utf-8"><title>${subject}</title></head>
<body>
${paragraphs}
</body>
</html>
`;
  return { subject, text, html: page.value };
}
