import type { FastifyReply, FastifyRequest } from 'fastify';
import type { Services } from '../../domain/services.js';
import type { PersonRef } from '../../domain/zones/zone-registry.js';
import type { SessionAuthentication } from '../../domain/sessions/session-service.js';
import type { ClientAddress } from '../client-address.js';
import { CsrfTokens } from './csrf.js';
import { forgetAccountLanguage, rememberLanguage, textsFor } from './page-language.js';
import type { Texts } from './texts.js';

/** What every page route shares: the person's session, the forms' CSRF tokens, the client address. */
export interface PageContext {
  readonly publicUrl: string;
  readonly csrf: CsrfTokens;
  readonly clientAddress: ClientAddress;
  currentPerson(request: FastifyRequest): Promise<PersonRef | null>;
  /** The words of this request's page, in the language it should speak. */
  texts(request: FastifyRequest): Texts;
  /** Speaks `language` (a language code of a profile) to this browser from now on, if Keygate speaks it. */
  rememberLanguage(request: FastifyRequest, reply: FastifyReply, language: string | null | undefined): void;
  /** The session cookie's value, to tell "this browser" apart from the person's other sessions. */
  sessionToken(request: FastifyRequest): string | undefined;
  /** This browser's session as apps may name it (`SessionService.publicSessionId`); null without one. */
  publicSessionId(request: FastifyRequest): string | null;
  /** When and how the person signed in for this browser's session (null: no live session). */
  sessionAuthentication(request: FastifyRequest): Promise<SessionAuthentication | null>;
  /**
   * Signs a person in with a fresh session id (a cookie planted before is worth nothing
   * after), recording `authentication`; without one (a session renewed after a change the
   * person made while signed in) the current session's sign-in carries over.
   */
  startSession(request: FastifyRequest, reply: FastifyReply, person: PersonRef, authentication?: SessionAuthentication): Promise<void>;
  /** Ends this browser's session; `signOut` when the person asked for it (recorded). */
  endSession(request: FastifyRequest, reply: FastifyReply, options?: { signOut?: boolean }): Promise<void>;
}

export interface PageContextOptions {
  /** What the pages' sessions use. */
  readonly services: Pick<Services, 'profiles' | 'sessions'>;
  readonly publicUrl: string;
  /** Keys the HMAC of the forms' CSRF tokens; the same on every node. */
  readonly csrfKey: Buffer;
  readonly clientAddress: ClientAddress;
}

/**
 * The session and CSRF cookies of the pages. Over HTTPS they carry the `__Host-` prefix,
 * so a sibling domain cannot plant one and they are never sent over plain HTTP.
 */
export function createPageContext(options: PageContextOptions): PageContext {
  const { services, publicUrl } = options;
  const https = publicUrl.startsWith('https:');
  const sessionCookie = https ? { name: '__Host-keygate-session', secure: true } : { name: 'keygate-session', secure: false };
  const sessionOf = (request: FastifyRequest): string | undefined => request.cookies[sessionCookie.name];
  const csrf = new CsrfTokens(options.csrfKey, https ? { name: '__Host-keygate-csrf', secure: true } : { name: 'keygate-csrf', secure: false }, sessionOf);
  return {
    publicUrl,
    csrf,
    clientAddress: options.clientAddress,
    currentPerson: (request) => services.sessions.resolveSession(request.cookies[sessionCookie.name]),
    texts: textsFor,
    rememberLanguage: (request, reply, language) => rememberLanguage(request, reply, language, https),
    sessionToken: (request) => request.cookies[sessionCookie.name],
    publicSessionId: (request) => services.sessions.publicSessionId(request.cookies[sessionCookie.name]),
    sessionAuthentication: (request) => services.sessions.authenticationOf(request.cookies[sessionCookie.name]),
    async startSession(request, reply, person, authentication) {
      const current = request.cookies[sessionCookie.name];
      const carried = authentication ?? await services.sessions.authenticationOf(current) ?? undefined;
      await services.sessions.endSession(current);
      const token = await services.sessions.startSession(person, { userAgent: request.headers['user-agent'], address: options.clientAddress(request) }, carried);
      reply.setCookie(sessionCookie.name, token, { path: '/', httpOnly: true, sameSite: 'lax', secure: sessionCookie.secure });
      // Forms rendered for the rest of this request belong to the new session, under a new CSRF secret.
      request.cookies[sessionCookie.name] = token;
      csrf.renew(request, reply);
      if (authentication) {
        // A fresh sign-in: the pages speak the person's language from now on. Reading it is
        // a read of a personal field like any other, recorded in the person's trail.
        // The person is signed in already: a store that fails here costs the language, not the sign-in.
        const profile = await services.profiles.readFieldsOf(person, ['language'], { kind: 'person', id: person.id, requestId: request.id }, 'the language of the pages')
          .catch((error: unknown) => {
            request.log.warn({ err: (error as Error).message }, 'the language of a person who signed in could not be read');
            return null;
          });
        rememberLanguage(request, reply, profile?.language, https, 'account');
      }
    },
    async endSession(request, reply, endOptions = {}) {
      await services.sessions.endSession(request.cookies[sessionCookie.name], { signOut: endOptions.signOut, requestId: request.id });
      reply.clearCookie(sessionCookie.name, { path: '/', secure: sessionCookie.secure });
      delete request.cookies[sessionCookie.name];
      forgetAccountLanguage(request, reply);
    },
  };
}
