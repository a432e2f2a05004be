import { build } from 'esbuild';
import http from 'node:http';
import { createRequire } from 'node:module';

const require = createRequire(import.meta.url);

/**
 * Bundles the published `ukey1-react-sdk@2.0.0` for the browser, unchanged. Its dist/
 * file exposes no global, so the package itself is bundled with Node's `url` and
 * `querystring` swapped for their browser polyfills and `process.browser` set.
 */
export async function bundleReactSdk(): Promise<string> {
  const result = await build({
    stdin: { contents: "import Ukey1 from 'ukey1-react-sdk'; window.Ukey1 = Ukey1;", resolveDir: process.cwd(), loader: 'js' },
    bundle: true,
    write: false,
    platform: 'browser',
    format: 'iife',
    logLevel: 'silent',
    define: { 'process.browser': 'true', 'process.env.NODE_ENV': '"production"', global: 'window' },
    alias: { url: require.resolve('url/'), querystring: require.resolve('querystring-es3') },
  });
  return result.outputFiles[0]!.text;
}

const page = (title: string, script: string) => `<!doctype html><html><head><meta charset="utf-8"><title>${title}</title></head>
<body><h1>${title}</h1><button id="signin">Sign in with Keygate</button><output id="status"></output><pre id="user"></pre>
<script src="/sdk.js"></script><script src="/${script}"></script></body></html>`;

/** The page script of the demo app: sign in on click; on the callback, trade the code and show the user. */
const appScript = (settings: { appId: string; host: string; returnUrl: string; scope: string[] }) => `
const settings = ${JSON.stringify(settings)};
document.getElementById('signin').addEventListener('click', () => {
  new Ukey1().connect({ appId: settings.appId, host: settings.host, returnUrl: settings.returnUrl, scope: settings.scope, signup: true });
});
if (location.pathname.startsWith('/callback/')) {
  new Ukey1().accessToken({
    appId: settings.appId,
    host: settings.host,
    success: (user) => { document.getElementById('user').textContent = JSON.stringify(user); },
    finished: (ok) => { document.getElementById('status').textContent = ok ? 'signed-in' : 'failed'; },
  });
}`;

/** A third-party web app on its own origin that signs people in through Keygate with the React SDK. */
export async function startDemoApp(settings: { appId: string; host: string; scope: string[] }, port: number) {
  const sdk = await bundleReactSdk();
  const origin = `http://localhost:${port}`;
  const script = appScript({ ...settings, returnUrl: `${origin}/callback/?from=keygate#done` });
  const server = http.createServer((request, response) => {
    const url = new URL(request.url ?? '/', origin);
    const send = (type: string, body: string) => response.writeHead(200, { 'content-type': type }).end(body);
    if (url.pathname === '/sdk.js') return send('text/javascript', sdk);
    if (url.pathname === '/app.js') return send('text/javascript', script);
    return send('text/html', page('Demo App', 'app.js'));
  });
  await new Promise<void>((resolve) => server.listen(port, '127.0.0.1', resolve));
  return { origin, close: () => new Promise<void>((resolve) => server.close(() => resolve())) };
}
