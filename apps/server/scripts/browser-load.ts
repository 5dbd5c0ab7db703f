/**
 * How long the memory browser takes to show a scope of 10k memories: seeds BROWSER_LOAD_MEMORIES
 * (default 10,000) memories of one user into a fresh SQLite file (lexical embedder, stored directly),
 * starts the server on 127.0.0.1 with the built page, and opens it signed in at that scope in
 * headless Chromium BROWSER_LOAD_RUNS times (default 7; a new tab each time). Prints, per run and as
 * median and maximum, the time from navigation start until the first page of memories is on screen
 * (the page's `mem:list-rendered` mark: page, script, sign-in check, scope list, first page of 50).
 *
 *   pnpm --filter @mem/server browser:load
 */
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { createMemoryFromConfig, loadConfig } from '@mem/config';
import { hashText, uuidv7 } from '@mem/core/adapter';
import { LexicalEmbedder, type MemoryRecord } from '@mem/core';
import { createServer } from '../src/app';
import { ApiKeyStore } from '../src/keys';
import { chromiumSkipReason, launchChromium } from '../test/browser/chromium';
import { buildBrowser } from './build-browser';

const MEMORIES = Number(process.env.BROWSER_LOAD_MEMORIES ?? 10_000);
const RUNS = Number(process.env.BROWSER_LOAD_RUNS ?? 7);
const KEY = 'browser-load-key-0123456789abcdef';
const USER = 'load-user';

const missing = chromiumSkipReason();
if (missing) throw new Error(missing);
const dir = mkdtempSync(join(tmpdir(), 'mem-browser-load-'));
const configured = await createMemoryFromConfig(loadConfig({ env: { MEM_DB: join(dir, 'mem.db'), MEM_LLM: 'none' } }));
try {
  const embedder = new LexicalEmbedder();
  const now = Date.now();
  for (let start = 0; start < MEMORIES; start += 500) {
    const records: MemoryRecord[] = [];
    for (let index = start; index < Math.min(MEMORIES, start + 500); index++) {
      const text = `Memory ${index}: likes topic ${index % 97} on day ${index % 31}`;
      const at = new Date(now - (MEMORIES - index) * 60_000);
      records.push({
        id: uuidv7(at.getTime()),
        vector: embedder.vectorOf(text),
        text,
        hash: hashText(text),
        scope: { userId: USER },
        metadata: { index, topic: `topic ${index % 97}` },
        createdAt: at,
        updatedAt: at,
        occurredAt: at,
      });
    }
    await configured.memory.importRecords(records);
  }
  const server = await createServer({
    memory: configured.memory,
    keys: ApiKeyStore.load({ keys: [{ id: 'load', key: KEY, userIds: [USER] }] }),
    hasLlm: false,
    vectorStore: configured.vectorStore,
    embedder: configured.embedder,
    log: 'silent',
    limits: { rateLimit: { burst: 100_000, perSecond: 100_000 } },
    browserAssets: await buildBrowser(join(dir, 'assets')),
  });
  const url = await server.listen({ host: '127.0.0.1', port: 0 });
  const browser = await launchChromium();
  const times: number[] = [];
  try {
    for (let run = 0; run < RUNS; run++) {
      const page = await browser.context.newPage();
      await page.addInitScript((key) => sessionStorage.setItem('mem.apiKey', key), KEY);
      await page.goto(`${url}/#user=${USER}`);
      await page.waitForSelector('body[data-ready="list"]');
      const measured = await page.evaluate(() => ({
        listed: performance.getEntriesByName('mem:list-rendered')[0]?.startTime ?? Number.NaN,
        rows: document.querySelectorAll('#results .memory').length,
        status: document.getElementById('status')?.textContent ?? '',
      }));
      if (measured.rows !== 50 || !measured.status.startsWith(`${MEMORIES} memories`)) {
        throw new Error(`run ${run + 1}: expected 50 rows of ${MEMORIES} memories, got ${measured.rows} ("${measured.status}")`);
      }
      times.push(measured.listed);
      console.log(`run ${run + 1}: first page of ${MEMORIES} memories on screen after ${measured.listed.toFixed(0)} ms`);
      await page.close();
    }
  } finally {
    await browser.close();
    await server.shutdown();
  }
  const sorted = [...times].sort((a, b) => a - b);
  console.log(
    `median ${sorted[Math.floor(sorted.length / 2)]!.toFixed(0)} ms, max ${sorted.at(-1)!.toFixed(0)} ms over ${RUNS} loads (${MEMORIES} memories in the scope)`,
  );
} finally {
  await configured.close().catch(() => undefined);
  rmSync(dir, { recursive: true, force: true });
}
