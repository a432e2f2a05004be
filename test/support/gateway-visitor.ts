import type { FastifyInstance } from 'fastify';

interface Exchange {
  status: number;
  body: string;
  headers: Record<string, string | string[] | number | undefined>;
}

/** How a visitor's requests travel: injected into one in-process server, or over the network. */
type Transport = (method: 'GET' | 'POST', url: string, headers: Record<string, string>, payload?: string) => Promise<Exchange>;

const injectInto = (server: FastifyInstance): Transport => async (method, url, headers, payload) => {
  const response = await server.inject({ method, url: url.replace(/^https?:\/\/[^/]+/, ''), headers, payload });
  return { status: response.statusCode, body: response.body, headers: response.headers };
};

/** Real HTTP; relative URLs go to `base()`, which a test may point at another node between requests. */
export const overHttp = (base: () => string): Transport => async (method, url, headers, payload) => {
  const response = await fetch(url.startsWith('http') ? url : `${base()}${url}`, { method, headers, body: payload, redirect: 'manual' });
  return {
    status: response.status,
    body: await response.text(),
    headers: { ...Object.fromEntries(response.headers), 'set-cookie': response.headers.getSetCookie() },
  };
};

/** Where a person reads the codes mailed to them (the outbox of a development server, or an SMTP server's mail). */
export interface Mailbox {
  code(address: string): Promise<string>;
}

/** A person in a browser without JavaScript: follows the gateway's forms and keeps its cookies. */
export class GatewayVisitor {
  readonly cookies = new Map<string, string>();
  /** The CSRF token of the last page seen; forms are posted with it, as a browser would. */
  csrf: string | undefined;
  /**
   * Where the last redirect led when it also gave the browser a new form secret (a session
   * started): a browser shows that page before it posts again, and so does the visitor.
   */
  #pageToShow: string | undefined;
  readonly #send: Transport;

  /**
   * `chosenLanguage`: the language this browser chose with the pages' switch; English unless
   * told otherwise, so that what a test reads does not depend on its person's profile.
   * `null`: no choice, as on a first visit.
   */
  constructor(target: FastifyInstance | Transport, options: { chosenLanguage?: 'en' | 'cs' | 'de' | null } = {}) {
    this.#send = typeof target === 'function' ? target : injectInto(target);
    const language = options.chosenLanguage === undefined ? 'en' : options.chosenLanguage;
    if (language) this.cookies.set('keygate-language', language);
  }

  #cookieHeader(): string | undefined {
    if (this.cookies.size === 0) return undefined;
    return [...this.cookies].map(([k, v]) => `${k}=${v}`).join('; ');
  }

  /** Keeps the cookies a response sets; true when it gave a new form (CSRF) secret. */
  #keepCookies(setCookie: string | string[] | number | undefined): boolean {
    let newFormSecret = false;
    for (const line of [setCookie ?? []].flat().map(String)) {
      const [pair] = line.split(';');
      const [name, ...value] = pair!.split('=');
      if (/Expires=Thu, 01 Jan 1970/i.test(line) || /Max-Age=0/i.test(line)) this.cookies.delete(name!.trim());
      else this.cookies.set(name!.trim(), value.join('='));
      if (/csrf$/.test(name!.trim())) newFormSecret = true;
    }
    return newFormSecret;
  }

  async get(url: string, headers: Record<string, string> = {}) {
    const cookie = this.#cookieHeader();
    const response = await this.#send('GET', url, { ...(cookie ? { cookie } : {}), ...headers });
    this.#pageToShow = undefined;
    this.#keepCookies(response.headers['set-cookie']);
    this.#keepCsrf(response.body);
    return { status: response.status, html: response.body, headers: response.headers };
  }

  #keepCsrf(html: string): void {
    const token = /name="_csrf" value="([^"]+)"/.exec(html)?.[1];
    if (token) this.csrf = token;
  }

  /**
   * Posts a form. Like a person who opened the page first, it fetches the sign-in
   * request's page when it has no CSRF token yet; `{ csrf: false }` posts without one.
   */
  async post(path: string, form: Record<string, string | string[]>, headers: Record<string, string> = {}, options: { csrf?: boolean } = {}) {
    if (options.csrf !== false && form._csrf === undefined && this.#pageToShow) await this.get(this.#pageToShow);
    if (options.csrf !== false && !this.csrf) {
      const page = /^\/gateway\/[^/]+/.exec(path)?.[0];
      if (page) await this.get(page);
    }
    if (options.csrf !== false && this.csrf && form._csrf === undefined) form = { ...form, _csrf: this.csrf };
    const body = new URLSearchParams();
    for (const [name, value] of Object.entries(form)) for (const v of [value].flat()) body.append(name, v);
    const cookie = this.#cookieHeader();
    const response = await this.#send('POST', path, { 'content-type': 'application/x-www-form-urlencoded', ...(cookie ? { cookie } : {}), ...headers }, body.toString());
    const location = response.headers.location as string | undefined;
    if (this.#keepCookies(response.headers['set-cookie']) && location !== undefined && /^\/(?!\/)/.test(location)) this.#pageToShow = location;
    this.#keepCsrf(response.body);
    return { status: response.status, html: response.body, location, headers: response.headers };
  }

  /**
   * Creates an account as a person does: the sign-up form under `base` (a gateway
   * request's path or `/dashboard`), then the code from the confirmation email.
   * Returns the answer to the code (a redirect onwards), or the sign-up form's when
   * it was refused.
   */
  async signUp(base: string, form: Record<string, string>, outbox: Mailbox) {
    const started = await this.post(`${base}/sign-up`, form);
    if (started.status !== 200 || !/name="code"/.test(started.html)) return started;
    return this.post(`${base}/confirm`, { code: await outbox.code(form.email!) });
  }
}

export const connectIdOf = (gateway: string) => new URL(gateway).pathname.split('/').pop()!;

export const SIGN_UP_JANA = {
  email: 'jana.novakova@example.cz',
  password: 'correct horse battery staple',
  firstname: 'Jana',
  surname: 'Nováková',
  country: 'CZ',
  language: 'cs',
};
