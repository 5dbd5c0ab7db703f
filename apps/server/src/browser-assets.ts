import { createHash } from 'node:crypto';
import { existsSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import type { FastifyInstance } from 'fastify';
import { HttpError } from './http-errors';

/** The built memory browser: `src/browser` bundled by `scripts/build-browser.mjs` (part of `build`). */
const DEFAULT_ASSETS = fileURLToPath(new URL('../dist/browser/', import.meta.url));
const FILES = { 'index.html': 'text/html', 'app.js': 'text/javascript', 'app.css': 'text/css' } as const;

/**
 * The page may run only its own script and style, talk only to this origin, and be framed by no
 * one: memory text is always inserted as text, and this policy is the second wall should that fail.
 */
const SECURITY_HEADERS = {
  'content-security-policy':
    "default-src 'none'; script-src 'self'; style-src 'self'; img-src 'self' data:; connect-src 'self'; base-uri 'none'; form-action 'none'; frame-ancestors 'none'",
  'x-content-type-options': 'nosniff',
  'referrer-policy': 'no-referrer',
  'cross-origin-opener-policy': 'same-origin',
  'cache-control': 'no-cache',
};

/**
 * Serves the memory browser: `GET /` (the page) and `GET /browser/app.js`, `/browser/app.css`.
 * No key is needed for the files; the page signs in with an API key and calls the REST API like
 * any other client. Files are read once, at start.
 */
export function registerBrowser(app: FastifyInstance, folder: string = DEFAULT_ASSETS): void {
  const files = new Map<string, { body: Buffer; type: string; etag: string }>();
  for (const [name, type] of Object.entries(FILES)) {
    const path = join(folder, name);
    if (!existsSync(path)) continue;
    const body = readFileSync(path);
    files.set(name, {
      body,
      type: `${type}; charset=utf-8`,
      etag: `"${createHash('sha256').update(body).digest('base64url').slice(0, 27)}"`,
    });
  }
  const send = (name: string) =>
    async function serve(request: { headers: Record<string, string | string[] | undefined> }, reply: import('fastify').FastifyReply) {
      const file = files.get(name);
      if (!file) {
        throw new HttpError(
          503,
          'NOT_READY',
          'The memory browser is not built: run `npm run pnpm -- --filter @mem/server build` at the repository root (the REST API works without it).',
        );
      }
      void reply.headers({ ...SECURITY_HEADERS, etag: file.etag });
      if (request.headers['if-none-match'] === file.etag) return reply.code(304).send();
      return reply.type(file.type).send(file.body);
    };
  app.get('/', send('index.html'));
  app.get('/browser/app.js', send('app.js'));
  app.get('/browser/app.css', send('app.css'));
}
