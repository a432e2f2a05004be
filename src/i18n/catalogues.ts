import { cs } from './cs.js';
import { de } from './de.js';
import { en, type Messages } from './en.js';
import type { UiLanguage } from './languages.js';

/** What a language brings: its pages' messages. */
export interface Catalogue {
  readonly messages: Messages;
}

export const CATALOGUES: Readonly<Record<UiLanguage, Catalogue>> = {
  en: { messages: en },
  cs: { messages: cs },
  de: { messages: de },
};
