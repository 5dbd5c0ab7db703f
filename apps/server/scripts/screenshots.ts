/**
 * Regenerates the screenshots of the memory browser in docs/browser/ (shown in the server README):
 * the real server on a temporary SQLite file with graph memory, the demo data of the browser tests,
 * and Debian's headless Chromium.
 *
 *   pnpm --filter @mem/server screenshots
 */
import { mkdtempSync, mkdirSync, rmSync, statSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join, relative } from 'node:path';
import { fileURLToPath } from 'node:url';
import { createMemoryFromConfig, loadConfig } from '@mem/config';
import { createServer } from '../src/app';
import { ApiKeyStore } from '../src/keys';
import { launchChromium, chromiumSkipReason } from '../test/browser/chromium';
import { seedDemo } from '../test/browser/demo-data';
import { buildBrowser } from './build-browser';

const root = dirname(dirname(fileURLToPath(import.meta.url)));
const out = join(root, '..', '..', 'docs', 'browser');
const KEYS = { admin: 'screenshot-admin-key-000000001', alice: 'screenshot-alice-key-00000002', bob: 'screenshot-bob-key-0000000003' };

const missing = chromiumSkipReason();
if (missing) throw new Error(missing);
const dir = mkdtempSync(join(tmpdir(), 'mem-screenshots-'));
const configured = await createMemoryFromConfig(
  loadConfig({ env: { MEM_DB: join(dir, 'mem.db'), MEM_GRAPH_STORE: 'sqlite', MEM_LLM: 'none' } }),
);
const server = await createServer({
  memory: configured.memory,
  keys: ApiKeyStore.load({
    keys: [
      { id: 'ops', key: KEYS.admin, admin: true },
      { id: 'alice-app', key: KEYS.alice, userIds: ['alice'] },
      { id: 'bob-app', key: KEYS.bob, userIds: ['bob'] },
    ],
  }),
  hasLlm: false,
  hasGraph: true,
  vectorStore: configured.vectorStore,
  embedder: configured.embedder,
  log: 'silent',
  browserAssets: await buildBrowser(join(dir, 'assets')),
});
const url = await server.listen({ host: '127.0.0.1', port: 0 });
const request = async (method: string, path: string, options: { key?: string; body?: unknown } = {}) => {
  const response = await fetch(`${url}${path}`, {
    method,
    headers: {
      ...(options.key ? { authorization: `Bearer ${options.key}` } : {}),
      ...(options.body ? { 'content-type': 'application/json' } : {}),
    },
    ...(options.body ? { body: JSON.stringify(options.body) } : {}),
  });
  return { status: response.status, body: await response.json() };
};
const { movedId } = await seedDemo(request, KEYS, configured);

const browser = await launchChromium({ viewport: { width: 1200, height: 760 } });
mkdirSync(out, { recursive: true });
const shots: string[] = [];
try {
  const page = await browser.context.newPage();
  await page.goto(`${url}/`);
  await page.fill('#api-key', KEYS.admin);
  await page.press('#api-key', 'Enter');
  await page.waitForSelector('body[data-ready="list"]');
  await page
    .locator(`.memory[data-id="${movedId}"]`)
    .getByRole('button', { name: /^History/ })
    .click();
  await page.waitForSelector('#detail .timeline');
  await page.locator(`.memory[data-id="${movedId}"] button`).first().blur();
  const shot = async (name: string) => {
    await page.evaluate(() => window.scrollTo(0, 0));
    const path = join(out, name);
    await page.screenshot({ path });
    shots.push(path);
  };
  await shot('memories.png');

  await page.fill('#query', 'green tea or peanuts?');
  await page.fill('#filter', '{"category": "food"}');
  await page.press('#filter', 'Enter');
  await page.waitForSelector('#results .score');
  await page.locator('#filter').blur();
  await shot('search.png');

  await page.click('#tab-graph');
  await page.fill('#graph-query', 'alice');
  await page.press('#graph-query', 'Enter');
  await page.waitForSelector('svg.graph');
  await page.locator('#graph-query').blur();
  await shot('graph.png');

  await page.setViewportSize({ width: 390, height: 844 });
  await page.click('#tab-memories');
  await page.click('#clear-query');
  await page.waitForSelector('body[data-ready="list"]');
  await page.locator('#clear-query').blur();
  await shot('narrow.png');
} finally {
  await browser.close();
  await server.shutdown();
  rmSync(dir, { recursive: true, force: true });
}
for (const path of shots) console.log(`${relative(process.cwd(), path)}  ${Math.round(statSync(path).size / 1024)} KB`);
