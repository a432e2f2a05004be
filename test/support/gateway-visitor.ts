import type { FastifyInstance } from 'fastify';

/** A person in a browser without JavaScript: follows the gateway's forms and keeps its cookies. */
export class GatewayVisitor {
  readonly cookies = new Map<string, string>();

  constructor(private readonly server: FastifyInstance) {}

  #cookieHeader(): string | undefined {
    if (this.cookies.size === 0) return undefined;
    return [...this.cookies].map(([k, v]) => `${k}=${v}`).join('; ');
  }

  #keepCookies(setCookie: string | string[] | undefined): void {
    for (const line of [setCookie ?? []].flat()) {
      const [pair] = line.split(';');
      const [name, ...value] = pair!.split('=');
      if (/Expires=Thu, 01 Jan 1970/i.test(line) || /Max-Age=0/i.test(line)) this.cookies.delete(name!.trim());
      else this.cookies.set(name!.trim(), value.join('='));
    }
  }

  async get(url: string) {
    const path = url.replace(/^https?:\/\/[^/]+/, '');
    const cookie = this.#cookieHeader();
    const response = await this.server.inject({ method: 'GET', url: path, headers: cookie ? { cookie } : {} });
    this.#keepCookies(response.headers['set-cookie']);
    return { status: response.statusCode, html: response.body, headers: response.headers };
  }

  async post(path: string, form: Record<string, string | string[]>, headers: Record<string, string> = {}) {
    const body = new URLSearchParams();
    for (const [name, value] of Object.entries(form)) for (const v of [value].flat()) body.append(name, v);
    const cookie = this.#cookieHeader();
    const response = await this.server.inject({
      method: 'POST',
      url: path,
      headers: { 'content-type': 'application/x-www-form-urlencoded', ...(cookie ? { cookie } : {}), ...headers },
      payload: body.toString(),
    });
    this.#keepCookies(response.headers['set-cookie']);
    return { status: response.statusCode, html: response.body, location: response.headers.location as string | undefined, headers: response.headers };
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
