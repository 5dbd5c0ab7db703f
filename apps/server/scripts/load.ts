/**
 * Load test of search on the embedded default: seeds 10k memories of one user into a fresh SQLite
 * file (LexicalEmbedder, stored directly with `importRecords`, as `mem import` of an export does),
 * starts the server from source in its own process on 127.0.0.1, then runs `POST /v1/search`
 * under 16 concurrent connections with autocannon and prints throughput and latency percentiles.
 *
 *   pnpm --filter @mem/server load    # LOAD_MEMORIES=10000 LOAD_CONNECTIONS=16 LOAD_SECONDS=20 LOAD_SCOPES=1 LOAD_READ_WORKERS=<MEM_READ_WORKERS>
 *   LOAD_CPU_PROFILE_DIR=/tmp/prof pnpm --filter @mem/server load   # also writes the server's CPU profiles there
 *
 * Everything stays on this machine (127.0.0.1); the run is bounded in time and stops by itself.
 */
import { spawn } from 'node:child_process';
import { mkdtempSync, readFileSync, readdirSync, rmSync } from 'node:fs';
import { cpus, loadavg, tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { hashText, uuidv7 } from '@mem/core/adapter';
import { LexicalEmbedder, type MemoryRecord } from '@mem/core';
import autocannon from 'autocannon';
import { createMemoryFromConfig, loadConfig } from '@mem/config';

const MEMORIES = Number(process.env.LOAD_MEMORIES ?? 10_000);
const CONNECTIONS = Number(process.env.LOAD_CONNECTIONS ?? 16);
/** Users the memories are spread over (searches rotate over them); 1 puts all 10k in the searched scope. */
const SCOPES = Number(process.env.LOAD_SCOPES ?? 1);
const SECONDS = Number(process.env.LOAD_SECONDS ?? 20);
/** The server's MEM_READ_WORKERS (search worker threads; 0 searches on the main thread); unset: the server's default. */
const READ_WORKERS = process.env.LOAD_READ_WORKERS;
/** A folder for V8 CPU profiles of the server (its main thread and each search worker: node --cpu-prof). */
const CPU_PROFILE_DIR = process.env.LOAD_CPU_PROFILE_DIR;
const WARMUP_SECONDS = 3;
const KEY = 'load-test-key-0123456789abcdef';
const root = dirname(dirname(fileURLToPath(import.meta.url)));

// A deterministic corpus: sentences from small vocabularies, so keyword and vector search both have work.
const SUBJECTS = ['I', 'My sister', 'My manager', 'Our neighbour', 'My best friend', 'My partner', 'The kids', 'My father'];
const VERBS = ['likes', 'hates', 'collects', 'is learning', 'writes about', 'dreams of', 'cooks', 'talks about', 'reads about', 'plans'];
const OBJECTS = [
  'green tea',
  'jazz records',
  'mountain hikes',
  'Portuguese',
  'sourdough bread',
  'chess openings',
  'vintage cameras',
  'marathon training',
  'Italian cooking',
  'board games',
  'astronomy',
  'watercolour painting',
  'electric guitars',
  'sailing',
  'bird watching',
  'pottery',
  'rock climbing',
  'science fiction',
  'gardening',
  'yoga',
  'spicy food',
  'old maps',
  'film photography',
  'tennis',
  'baking cakes',
  'Lisbon',
  'Berlin',
  'Kyoto',
];
const TIMES = [
  'every morning',
  'on weekends',
  'since 2019',
  'after work',
  'in the summer',
  'twice a week',
  'when it rains',
  'with friends',
];
const pick = <T>(list: readonly T[], seed: number): T => list[seed % list.length]!;
const sentence = (index: number) =>
  `${pick(SUBJECTS, index)} ${pick(VERBS, Math.floor(index / 8))} ${pick(OBJECTS, Math.floor(index / 80) + index)} ${pick(TIMES, Math.floor(index / 7))} (note ${index})`;
const QUERIES = [
  'who likes green tea?',
  'jazz records',
  'what does my sister cook',
  'hiking in the mountains',
  'learning Portuguese',
  'sourdough',
  'chess',
  'cameras and photography',
  'marathon',
  'what happens on weekends',
  'Lisbon',
  'things my father plans',
  'astronomy at night',
  'painting',
  'sailing with friends',
  'spicy food after work',
];

const userOf = (index: number) => `load-user-${index % SCOPES}`;

function percentile(sorted: readonly number[], p: number): number {
  return sorted[Math.min(sorted.length - 1, Math.ceil((p / 100) * sorted.length) - 1)]!;
}

async function seed(db: string): Promise<number> {
  const started = performance.now();
  const configured = await createMemoryFromConfig(loadConfig({ env: { MEM_DB: db } }));
  const embedder = new LexicalEmbedder();
  const now = Date.now();
  try {
    for (let start = 0; start < MEMORIES; start += 500) {
      const records: MemoryRecord[] = [];
      for (let index = start; index < Math.min(MEMORIES, start + 500); index++) {
        const text = sentence(index);
        const at = new Date(now - (MEMORIES - index) * 60_000);
        records.push({
          id: uuidv7(at.getTime()),
          vector: embedder.vectorOf(text),
          text,
          hash: hashText(text),
          scope: { userId: userOf(index) },
          metadata: { index, topic: pick(OBJECTS, index) },
          createdAt: at,
          updatedAt: at,
          occurredAt: at,
        });
      }
      await configured.memory.importRecords(records);
    }
    const { results } = await configured.memory.getAll({ scope: { userId: userOf(0) }, pageSize: 1 });
    if (results.length !== 1) throw new Error('seeding stored nothing');
  } finally {
    await configured.close();
  }
  return (performance.now() - started) / 1000;
}

/**
 * CPU time the server process (its worker threads included) has used, in milliseconds, from
 * /proc (Linux); undefined elsewhere. On a shared machine it says what a search costs when
 * wall-clock figures mostly measure the other processes.
 */
function cpuMs(pid: number | undefined): number | undefined {
  try {
    const fields = readFileSync(`/proc/${pid}/stat`, 'utf8').split(') ')[1]!.split(' ');
    // utime and stime (fields 14 and 15 of the line; 12 and 13 after the command) in clock ticks of 10 ms.
    return (Number(fields[11]) + Number(fields[12])) * 10;
  } catch {
    return undefined;
  }
}

/**
 * CPU time of each of the server's threads in milliseconds, by thread name (`comm`: the main thread
 * and each search worker is "node" until named, V8's helpers "V8 DefaultWorke", libuv's pool
 * "libuv-worker"), from /proc; empty elsewhere.
 */
function threadCpuMs(pid: number | undefined): Map<string, number> {
  const threads = new Map<string, number>();
  try {
    for (const tid of readdirSync(`/proc/${pid}/task`)) {
      const stat = readFileSync(`/proc/${pid}/task/${tid}/stat`, 'utf8');
      const name = `${stat.slice(stat.indexOf('(') + 1, stat.lastIndexOf(')'))}#${tid === String(pid) ? 'main' : tid}`;
      const fields = stat.slice(stat.lastIndexOf(') ') + 2).split(' ');
      threads.set(name, (Number(fields[11]) + Number(fields[12])) * 10);
    }
  } catch {
    // Not Linux, or the thread ended between the listing and the read.
  }
  return threads;
}

/** The server process's resident memory in MiB, from /proc (Linux); undefined elsewhere. */
function rssMiB(pid: number | undefined): number | undefined {
  try {
    const line = readFileSync(`/proc/${pid}/status`, 'utf8')
      .split('\n')
      .find((entry) => entry.startsWith('VmRSS:'));
    return line === undefined ? undefined : Math.round(Number(line.split(/\s+/)[1]) / 1024);
  } catch {
    return undefined;
  }
}

function startServer(db: string): Promise<{
  url: string;
  readWorkers: number;
  pid: number | undefined;
  cpuMs: () => number | undefined;
  threadCpuMs: () => Map<string, number>;
  stop: () => Promise<void>;
}> {
  const child = spawn(
    process.execPath,
    [...(CPU_PROFILE_DIR ? ['--cpu-prof', `--cpu-prof-dir=${CPU_PROFILE_DIR}`] : []), '--import', 'tsx', 'src/main.ts'],
    {
      cwd: root,
      env: {
        PATH: process.env.PATH ?? '',
        MEM_DB: db,
        MEM_PORT: '0',
        MEM_LLM: 'none',
        MEM_EMBEDDER: 'lexical',
        MEM_API_KEYS: JSON.stringify([{ id: 'load', key: KEY, userIds: '*' }]),
        MEM_RATE_LIMIT_BURST: '1000000',
        MEM_RATE_LIMIT_PER_SECOND: '1000000',
        ...(READ_WORKERS === undefined ? {} : { MEM_READ_WORKERS: READ_WORKERS }),
      },
      stdio: ['ignore', 'ignore', 'pipe'],
    },
  );
  let log = '';
  return new Promise((resolve, reject) => {
    child.stderr.on('data', (chunk: Buffer) => {
      const text = chunk.toString();
      // Keep the start-up lines only; one line per request would grow without bound.
      if (log.length < 10_000) log += text;
      const match = /"msg":"listening","url":"([^"]+)"/.exec(log);
      if (match) {
        resolve({
          url: match[1]!,
          readWorkers: Number(/"readWorkers":(\d+)/.exec(log)?.[1] ?? 0),
          pid: child.pid,
          cpuMs: () => cpuMs(child.pid),
          threadCpuMs: () => threadCpuMs(child.pid),
          stop: () =>
            new Promise<void>((done) => {
              child.on('exit', () => done());
              child.kill('SIGTERM');
            }),
        });
      }
    });
    child.on('exit', (code) => reject(new Error(`server exited (${code}) before listening:\n${log}`)));
  });
}

/** The threads' CPU ms per search over the run, busiest first (threads under 0.05 ms left out). */
function perThread(before: Map<string, number>, after: Map<string, number>, searches: number): string {
  const rows = [...after]
    .map(([name, ms]) => [name, (ms - (before.get(name) ?? 0)) / searches] as const)
    .filter(([, ms]) => ms >= 0.05)
    .sort((a, b) => b[1] - a[1]);
  return rows.length === 0 ? 'n/a' : rows.map(([name, ms]) => `${name} ${ms.toFixed(2)}`).join(', ');
}

async function run(url: string, seconds: number) {
  const latencies: number[] = [];
  let next = 0;
  const result = await new Promise<autocannon.Result>((resolve, reject) => {
    const instance = autocannon(
      {
        url,
        connections: CONNECTIONS,
        duration: seconds,
        requests: [
          {
            method: 'POST',
            path: '/v1/search',
            headers: { authorization: `Bearer ${KEY}`, 'content-type': 'application/json' },
            setupRequest: (request) => ({
              ...request,
              body: JSON.stringify({ query: QUERIES[next % QUERIES.length], scope: { userId: userOf(next++) }, limit: 10 }),
            }),
          },
        ],
      },
      (error, finished) => (error ? reject(error) : resolve(finished)),
    );
    instance.on('response', (_client, _status, _bytes, responseTime) => latencies.push(responseTime));
  });
  latencies.sort((a, b) => a - b);
  return { result, latencies };
}

const dir = mkdtempSync(join(tmpdir(), 'mem-load-'));
try {
  const db = join(dir, 'load.db');
  console.log(`Seeding ${MEMORIES} memories over ${SCOPES} user(s) (LexicalEmbedder, SQLite) ...`);
  const seedSeconds = await seed(db);
  console.log(`  seeded in ${seedSeconds.toFixed(1)} s`);
  const server = await startServer(db);
  try {
    console.log(`Warming up for ${WARMUP_SECONDS} s ...`);
    await run(server.url, WARMUP_SECONDS);
    console.log(`POST /v1/search (limit 10, 16 rotating queries) for ${SECONDS} s with ${CONNECTIONS} connections ...`);
    const cpuBefore = server.cpuMs();
    const threadsBefore = server.threadCpuMs();
    const loadBefore = loadavg()[0]!;
    const { result, latencies } = await run(server.url, SECONDS);
    const cpuAfter = server.cpuMs();
    const threadsAfter = server.threadCpuMs();
    const ok = result['2xx'];
    // autocannon's errors include its timeouts (10 s without an answer).
    const failed = result.non2xx + result.errors;
    const lines = [
      '',
      `machine:      ${cpus().length} × ${cpus()[0]?.model ?? 'cpu'}, Node ${process.version}`,
      `memories:     ${MEMORIES} over ${SCOPES} user${SCOPES === 1 ? '' : 's'} (${Math.round(MEMORIES / SCOPES)} in each searched scope), embedded default (SQLite + sqlite-vec + FTS5, LexicalEmbedder)`,
      `server:       ${server.readWorkers === 0 ? 'searches on the main thread (MEM_READ_WORKERS=0)' : `${server.readWorkers} search worker threads (MEM_READ_WORKERS)`}`,
      `requests:     ${ok} ok, ${failed} failed (${result.non2xx} non-2xx, ${result.errors} without an answer, of which ${result.timeouts} timed out after 10 s), in ${result.duration.toFixed(1)} s`,
      `throughput:   ${(ok / result.duration).toFixed(1)} searches/s`,
      `server CPU:   ${cpuBefore === undefined || cpuAfter === undefined || ok === 0 ? 'n/a' : `${((cpuAfter - cpuBefore) / ok).toFixed(1)} ms per search (all threads)`}`,
      `by thread:    ${ok === 0 ? 'n/a' : perThread(threadsBefore, threadsAfter, ok)}`,
      `server RSS:   ${rssMiB(server.pid) ?? 'n/a'} MiB after the run (every thread's caches)`,
      `load average: ${loadBefore.toFixed(2)} before, ${loadavg()[0]!.toFixed(2)} after (1 min; ${cpus().length} cores, shared with whatever else runs)`,
      `latency (ms): p50 ${percentile(latencies, 50).toFixed(1)}, p95 ${percentile(latencies, 95).toFixed(1)}, p99 ${percentile(latencies, 99).toFixed(1)}, max ${latencies[latencies.length - 1]?.toFixed(1)}`,
    ];
    console.log(lines.join('\n'));
    if (failed > 0 || ok === 0) process.exitCode = 1;
  } finally {
    await server.stop();
  }
} finally {
  rmSync(dir, { recursive: true, force: true });
}
