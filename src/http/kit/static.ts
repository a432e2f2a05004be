import type { FastifyInstance } from 'fastify';
import { PAGE_SCRIPT } from './page-script.js';
import { PAGE_CSS } from './styles.js';

/** The stylesheet and the script the pages load from our origin (the CSP allows nothing inline). */
export function registerStaticAssets(server: FastifyInstance): void {
  server.get('/static/keygate.css', async (_request, reply) =>
    reply.type('text/css; charset=utf-8').header('Cache-Control', 'public, max-age=3600').send(PAGE_CSS));
  // The name predates the account pages, which load the same script; links in the wild keep working.
  server.get('/static/dashboard.js', async (_request, reply) =>
    reply.type('text/javascript; charset=utf-8').header('Cache-Control', 'public, max-age=3600').send(PAGE_SCRIPT));
}
