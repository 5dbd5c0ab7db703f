// Builds the memory browser: src/browser/main.ts bundled by esbuild into one script (no framework,
// nothing loaded from elsewhere), next to index.html and app.css. Part of
// `pnpm --filter @mem/server build` (into dist/browser); the browser tests build into a folder of
// their own, so they always test the current source.
import { copyFileSync, mkdirSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { build } from 'esbuild';

const root = dirname(dirname(fileURLToPath(import.meta.url)));
const source = join(root, 'src', 'browser');

/** Builds `app.js`, `app.css` and `index.html` into `out`; resolves to `out`. */
export async function buildBrowser(out: string = join(root, 'dist', 'browser')): Promise<string> {
  mkdirSync(out, { recursive: true });
  await build({
    entryPoints: [join(source, 'main.ts')],
    outfile: join(out, 'app.js'),
    bundle: true,
    format: 'iife',
    platform: 'browser',
    target: ['es2022'],
    minify: true,
    legalComments: 'none',
    logLevel: 'warning',
  });
  for (const file of ['index.html', 'app.css']) copyFileSync(join(source, file), join(out, file));
  return out;
}

if (process.argv[1] === fileURLToPath(import.meta.url)) await buildBrowser();
