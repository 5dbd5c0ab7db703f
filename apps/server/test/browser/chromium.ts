import { existsSync, mkdtempSync, readdirSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { chromium, type BrowserContext } from 'playwright-core';

/** Debian's chromium package (`apt-get install -y chromium`); nothing downloads a browser. */
export const CHROMIUM_PATH = '/usr/bin/chromium';

/**
 * Whether the browser tests can run: a skip reason when Chromium is missing on a laptop; under
 * `CI=true` a missing browser throws, so CI fails instead of skipping (`.ci/run` installs it).
 */
export function chromiumSkipReason(): string | undefined {
  if (existsSync(CHROMIUM_PATH)) return undefined;
  if (process.env.CI === 'true') {
    throw new Error(
      `CI=true, so the memory browser tests need Chromium at ${CHROMIUM_PATH}: .ci/run installs it with apt-get install -y chromium.`,
    );
  }
  return `needs Debian's Chromium at ${CHROMIUM_PATH}: apt-get install -y chromium`;
}

/**
 * Starts headless Chromium with a fresh profile and the flags that work on this machine (root, no
 * GPU, no network but loopback: no background connections).
 */
export async function launchChromium(options: { viewport?: { width: number; height: number } } = {}): Promise<{
  context: BrowserContext;
  close: () => Promise<void>;
}> {
  const profile = mkdtempSync(join(tmpdir(), 'mem-chromium-'));
  const context = await chromium.launchPersistentContext(profile, {
    executablePath: CHROMIUM_PATH,
    headless: true,
    args: [
      '--no-sandbox',
      '--disable-gpu',
      '--disable-quic',
      '--no-first-run',
      '--disable-background-networking',
      '--disable-component-update',
      '--disable-sync',
    ],
    viewport: options.viewport ?? { width: 1280, height: 860 },
    deviceScaleFactor: 1,
    acceptDownloads: true,
    locale: 'en-US',
    timezoneId: 'UTC',
  });
  return {
    context,
    close: async () => {
      // Chromium now and then never answers the close (a whole CI run's afterAll waited out its 60 s):
      // after CLOSE_WAIT_MS its processes, which all name this run's own profile folder, are killed.
      let timer: NodeJS.Timeout | undefined;
      const waited = new Promise<'timeout'>((resolve) => {
        timer = setTimeout(() => resolve('timeout'), CLOSE_WAIT_MS);
      });
      const outcome = await Promise.race([context.close().then(() => 'closed' as const), waited]);
      clearTimeout(timer);
      if (outcome === 'timeout') {
        const killed = killProcessesNaming(profile);
        process.stderr.write(`Chromium did not close within ${CLOSE_WAIT_MS / 1000} s; killed its ${killed} processes.\n`);
      }
      rmSync(profile, { recursive: true, force: true });
    },
  };
}

/** How long closing Chromium may take before its processes are killed. */
const CLOSE_WAIT_MS = 15_000;

/** Sends SIGKILL to every process whose command line contains `text` (Linux's /proc); how many. */
function killProcessesNaming(text: string): number {
  let killed = 0;
  let entries: string[];
  try {
    entries = readdirSync('/proc');
  } catch {
    return 0;
  }
  for (const entry of entries) {
    if (!/^\d+$/.test(entry) || Number(entry) === process.pid) continue;
    try {
      if (!readFileSync(`/proc/${entry}/cmdline`, 'utf8').includes(text)) continue;
      process.kill(Number(entry), 'SIGKILL');
      killed++;
    } catch {
      // Gone meanwhile, or not ours to read.
    }
  }
  return killed;
}
