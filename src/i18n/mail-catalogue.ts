/**
 * The shape of a language's mail: every message Keygate sends, as paragraphs and links.
 * Each language file (`en.ts`, `cs.ts`, …) holds one; a message added here must be
 * written in every language before it compiles.
 */
export interface ExtranetInvitationParams {
  appName: string;
  signInUrl: string;
}

/** A paragraph of plain text, or a link shown as its own URL. */
export type Block = string | { link: string };

export interface MailContent {
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

export interface MailCatalogue {
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

/** The words for a count, by CLDR plural category; `other` stands in for any category left out. */
export type PluralForms = Partial<Record<Intl.LDMLPluralRule, string>> & { other: string };

/** `n` and the word that agrees with it in `language`, e.g. "1 minute", "30 minutes". */
export function counter(language: string): (n: number, forms: PluralForms) => string {
  const rules = new Intl.PluralRules(language);
  return (n, forms) => `${n} ${forms[rules.select(n)] ?? forms.other}`;
}
