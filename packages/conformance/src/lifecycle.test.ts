import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { Writable } from 'node:stream';
import { afterAll, beforeAll, describe, expect, it, type RunnerTask, type RunnerTestFile } from 'vitest';
import { startVitest } from 'vitest/node';
import { vectorStoreCases } from './vector-store-cases';
import { llmCases } from './llm-cases';
import { historyStoreCases } from './history-store-cases';

interface Outcome {
  readonly suite: string;
  readonly name: string;
  readonly state: string | undefined;
  readonly note?: string;
  readonly error?: string;
}

// Runs src/__fixtures__/lifecycle.fixture.ts in a nested vitest and reads what happened: the test
// states vitest reported, and the harness log (create / dispose per namespace).
const outcomes: Outcome[] = [];
let logLines: string[] = [];
let directory: string;

function flatten(task: RunnerTask, suite: string, into: Outcome[]): void {
  if (task.type === 'test') {
    into.push({
      suite,
      name: task.name,
      state: task.mode === 'skip' ? 'skip' : task.result?.state,
      note: (task.result as { note?: string } | undefined)?.note,
      error: task.result?.errors?.[0]?.message,
    });
  } else if ('tasks' in task) {
    for (const child of task.tasks) flatten(child, task.type === 'suite' && suite === '' ? task.name : suite, into);
  }
}

beforeAll(async () => {
  directory = mkdtempSync(join(tmpdir(), 'mem-conformance-'));
  const logPath = join(directory, 'log.txt');
  writeFileSync(logPath, '');
  const fixture = fileURLToPath(new URL('./__fixtures__/lifecycle.fixture.ts', import.meta.url));
  // The nested run's own output (deliberate failures) is discarded; its results are read below.
  const discard = () => new Writable({ write: (_chunk, _encoding, done) => done() });
  const vitest = await startVitest(
    'test',
    [fixture],
    { watch: false, config: false, reporters: [], include: ['**/*.fixture.ts'] },
    { test: { provide: { lifecycleLog: logPath } } },
    { stdout: discard(), stderr: discard() },
  );
  const files: RunnerTestFile[] = vitest.state.getFiles();
  await vitest.close();
  for (const file of files) for (const task of file.tasks) flatten(task, '', outcomes);
  logLines = readFileSync(logPath, 'utf8').split('\n').filter(Boolean);
}, 60_000);

afterAll(() => rmSync(directory, { recursive: true, force: true }));

const inSuite = (suite: string) => outcomes.filter((outcome) => outcome.suite.startsWith(suite));
const created = (suite: string) => logLines.filter((line) => line.startsWith(`create ${suite} `)).map((line) => line.split(' ')[2]);
const disposed = (suite: string) => logLines.filter((line) => line.startsWith(`dispose ${suite} `)).map((line) => line.split(' ')[2]);

describe('describe* lifecycle', () => {
  it('runs every case with a fresh, unique mem_<hex> namespace and disposes each harness exactly once', () => {
    const namespaces = created('passing');
    expect(namespaces).toHaveLength(vectorStoreCases.length + 2);
    expect(new Set(namespaces).size).toBe(namespaces.length);
    for (const namespace of namespaces) expect(namespace).toMatch(/^mem_[0-9a-f]{12}$/);
    expect([...disposed('passing')].sort()).toEqual([...namespaces].sort());
  });

  it('reports a case skipped by a missing capability as skipped with its reason, not as passed', () => {
    const skipped = inSuite('passing').filter((outcome) => outcome.state === 'skip');
    expect(skipped.map((outcome) => [outcome.name, outcome.note])).toEqual([
      [
        'keywordQuery: throws UNSUPPORTED_CAPABILITY when capabilities.keywordSearch is false',
        'the store declares keywordSearch: true (the ranking cases apply)',
      ],
    ]);
  });

  it('gives extraCases their own harness with the collection ready, disposed after pass and failure', () => {
    const extras = inSuite('passing').filter((outcome) => outcome.name.startsWith('extra:'));
    expect(extras.map((outcome) => [outcome.name, outcome.state])).toEqual([
      ['extra: use() returns this test’s store with its collection ready', 'pass'],
      ['extra: fails on purpose', 'fail'],
    ]);
    const extraNamespaces = logLines.filter((line) => line.startsWith('extra ')).map((line) => line.split(' ')[1]);
    expect(extraNamespaces).toHaveLength(2);
    for (const namespace of extraNamespaces) expect(disposed('passing')).toContain(namespace);
  });

  it('disposes after failing cases too', () => {
    expect(inSuite('broken').some((outcome) => outcome.state === 'fail')).toBe(true);
    expect(created('broken')).toHaveLength(vectorStoreCases.length);
    expect([...disposed('broken')].sort()).toEqual([...created('broken')].sort());
  });

  it('fails a case that exceeds timeoutMs and still disposes its harness', () => {
    const states = inSuite('hanging').map((outcome) => outcome.state);
    expect(states.filter((state) => state === 'fail')).toHaveLength(llmCases.length - 1);
    expect(states.filter((state) => state === 'pass')).toHaveLength(1);
    expect(inSuite('hanging').find((outcome) => outcome.state === 'fail')?.error).toMatch(/timed out/i);
    expect([...disposed('hanging')].sort()).toEqual([...created('hanging')].sort());
    expect(created('hanging')).toHaveLength(llmCases.length);
  });

  it('registers a suite with options.skip as skipped, with the reason in its title, and never creates a harness', () => {
    const skipped = outcomes.filter((outcome) => outcome.suite.startsWith('skipped'));
    expect(skipped).toHaveLength(historyStoreCases.length);
    expect(skipped.every((outcome) => outcome.state === 'skip')).toBe(true);
    expect(skipped[0]!.suite).toBe('skipped (skipped: needs FAKE_SERVER_URL)');
    expect(created('skipped')).toEqual([]);
  });

  it('fails every case when the harness cannot be created, with the harness error', () => {
    const unbuildable = inSuite('unbuildable');
    expect(unbuildable.length).toBeGreaterThan(0);
    expect(unbuildable.every((outcome) => outcome.state === 'fail' && outcome.error === 'cannot connect')).toBe(true);
  });
});
