// oidc-provider ships no types; the peer uses only its constructor and `listen`.
declare module 'oidc-provider' {
  export default class Provider {
    constructor(issuer: string, configuration: Record<string, unknown>);
    listen(port: number, host: string, callback: () => void): void;
  }
}
