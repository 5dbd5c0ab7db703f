import { spawn } from 'node:child_process';
import { existsSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { createServer } from 'node:http';
import type { AddressInfo } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { cliRoot, mem } from './run-cli';

const dir = mkdtempSync(join(tmpdir(), 'mem-cli-test-'));
afterAll(() => rmSync(dir, { recursive: true, force: true }));

/** A fresh database file per test group; no provider variables, so no LLM and the lexical embedder. */
const database = (name: string) => ({ MEM_DB: join(dir, `${name}.db`) });

describe('mem: usage and exit codes', () => {
  it('prints help with exit 0, and exits 2 for no command, an unknown command or option', async () => {
    const help = await mem(['--help']);
    expect(help.code).toBe(0);
    expect(help.stdout).toContain('Exit codes: 0 ok, 1 runtime or provider error, 2 usage or invalid input, 3 not found.');
    expect((await mem([])).code).toBe(2);
    const unknown = await mem(['remember', 'x']);
    expect(unknown.code).toBe(2);
    expect(unknown.stderr).toContain('unknown command "remember". Run mem --help.');
    const throughNpm = await mem(['remember', 'x'], { env: { npm_lifecycle_event: 'mem', INIT_CWD: cliRoot } });
    expect(throughNpm.stderr).toContain('Run npm run mem -- --help.');
    const option = await mem(['list', '--colour'], { env: database('usage') });
    expect(option.code).toBe(2);
    expect(option.stderr).toContain('--colour');
  });

  it('exits 2 naming the field when core rejects the input (no scope, bad filter JSON), and for infer without an LLM', async () => {
    const env = database('invalid');
    const noScope = await mem(['add', 'I like tea'], { env });
    expect(noScope.code).toBe(2);
    expect(noScope.stderr).toContain('options.scope');
    const badFilter = await mem(['list', '--user', 'alice', '--filter', '{category:'], { env });
    expect(badFilter.code).toBe(2);
    expect(badFilter.stderr).toContain('--filter');
    const infer = await mem(['add', 'I like tea', '--user', 'alice', '--infer', '--json'], { env });
    expect(infer.code).toBe(2);
    expect(JSON.parse(infer.stderr).error.code).toBe('MISSING_SETTING');
  });
});

describe('mem: add, search, list, get, history, delete', () => {
  const env = database('crud');
  let teaId = '';

  it('adds (as given without an LLM) and prints a table, or JSON with --json; reads - from stdin', async () => {
    const added = await mem(['add', 'I drink green tea every morning', '--user', 'alice', '--metadata', '{"category":"food"}'], { env });
    expect(added.code).toBe(0);
    expect(added.stdout).toMatch(/^EVENT\s+ID\s+TEXT\n-+\s+-+\s+-+\nADD\s+\S+\s+I drink green tea every morning\n$/);
    teaId = /ADD\s+(\S+)/.exec(added.stdout)![1]!;

    const json = await mem(['add', 'I live in Lisbon', '-u', 'alice', '--json', '--occurred-at', '2024-05-08T10:00:00Z'], { env });
    expect(json.code).toBe(0);
    const result = JSON.parse(json.stdout);
    expect(result.events).toEqual([{ kind: 'ADD', id: expect.any(String), text: 'I live in Lisbon' }]);
    expect(result.memories[0].occurredAt).toBe('2024-05-08T10:00:00.000Z');

    const piped = await mem(['add', '-', '--user', 'alice'], { env, stdin: 'I have a cat called Miso\n' });
    expect(piped.code).toBe(0);
    expect(piped.stdout).toContain('I have a cat called Miso');
  });

  it('searches: best match first, scores, --filter and --limit; --json for scripts', async () => {
    const search = await mem(['search', 'green', 'tea', '--user', 'alice', '--limit', '2'], { env });
    expect(search.code).toBe(0);
    const rows = search.stdout.trim().split('\n').slice(2);
    expect(rows).toHaveLength(2);
    expect(search.stdout).toMatch(/^SCORE\s+ID\s+OCCURRED\s+UPDATED\s+TEXT\n/);
    expect(rows[0]).toMatch(
      /^\d\.\d{3}\s+\S+\s+\d{4}-\d{2}-\d{2} \d{2}:\d{2}\s+\d{4}-\d{2}-\d{2} \d{2}:\d{2}\s+I drink green tea every morning$/,
    );
    // The date the fact happened (--occurred-at), not only when it was stored.
    const lisbon = await mem(['search', 'Lisbon', '--user', 'alice', '--limit', '1'], { env });
    expect(lisbon.stdout.split('\n')[2]).toMatch(/^\d\.\d{3}\s+\S+\s+2024-05-08 10:00\s+\d{4}-\d{2}-\d{2} \d{2}:\d{2}\s+I live in Lisbon$/);
    for (const limit of ['0', '1001', 'ten']) {
      const refused = await mem(['search', 'tea', '--user', 'alice', '--limit', limit], { env });
      expect(refused.code).toBe(2);
      expect(refused.stderr).toBe(`mem: Invalid --limit: expected an integer from 1 to 1000, got "${limit}". Pass e.g. --limit 10.\n`);
    }
    const filtered = JSON.parse(
      (await mem(['search', 'Lisbon', '-u', 'alice', '--filter', '{"category":"food"}', '--json'], { env })).stdout,
    );
    expect(filtered.results.map((item: { text: string }) => item.text)).toEqual(['I drink green tea every morning']);
    const otherUser = await mem(['search', 'tea', '--user', 'bob'], { env });
    expect(otherUser.stdout).toBe('No memories found.\n');
  });

  it('searches with --rerank through the reranker of MEM_RERANKER, and refuses it without one', async () => {
    const refused = await mem(['search', 'tea', '--user', 'alice', '--rerank', '--json'], { env });
    expect(refused.code).toBe(2);
    expect(JSON.parse(refused.stderr).error).toMatchObject({ code: 'MISSING_SETTING' });
    // A local server speaking Cohere's v2 Rerank API that ranks the Lisbon memory first.
    const server = createServer((request, response) => {
      let text = '';
      request.on('data', (chunk) => {
        text += chunk;
      });
      request.on('end', () => {
        const { documents } = JSON.parse(text) as { documents: string[] };
        const results = documents.map((document, index) => ({ index, relevance_score: document.includes('Lisbon') ? 0.8 : 0.2 }));
        response.writeHead(200, { 'content-type': 'application/json' });
        response.end(JSON.stringify({ id: 'r', results: results.sort((a, b) => b.relevance_score - a.relevance_score), meta: {} }));
      });
    });
    await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
    try {
      const url = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
      const reranked = await mem(['search', 'green', 'tea', '--user', 'alice', '--rerank', '--json'], {
        env: { ...env, MEM_RERANKER: 'cohere', CO_API_KEY: 'co-test', CO_API_URL: url },
      });
      expect(reranked.code).toBe(0);
      const { results } = JSON.parse(reranked.stdout) as { results: { text: string; rerankScore?: number }[] };
      expect(results[0]).toMatchObject({ text: 'I live in Lisbon', rerankScore: 0.8 });
    } finally {
      await new Promise((resolve) => server.close(resolve));
    }
  });

  it('lists a page at a time (with the occurred-at date), or every page with --all', async () => {
    const page = await mem(['list', '--user', 'alice', '--page-size', '2'], { env });
    expect(page.code).toBe(0);
    expect(page.stdout).toMatch(/^ID\s+OCCURRED\s+UPDATED\s+TEXT\n/);
    expect(page.stdout).toMatch(/\n\S+\s+2024-05-08 10:00\s+\d{4}-\d{2}-\d{2} \d{2}:\d{2}\s+I live in Lisbon\n/);
    // The hint is a command that works when pasted: same scope and page size, the next cursor.
    const hint = /^More: mem (list .*) \(or --all\)$/m.exec(page.stdout);
    expect(hint?.[1]).toMatch(/^list --user alice --page-size 2 --cursor \S+$/);
    const next = await mem(hint![1]!.split(' '), { env });
    expect(next.code).toBe(0);
    expect(next.stdout).toContain('I have a cat called Miso');
    expect(next.stdout).not.toContain('More:');
    // Started as the README says (`npm run mem -- list …` at the repository root), the hint is in that form.
    const throughNpm = await mem(['list', '--user', 'alice', '--page-size', '2'], {
      env: { ...env, npm_lifecycle_event: 'mem', INIT_CWD: cliRoot },
    });
    expect(throughNpm.stdout).toMatch(/^More: npm run mem -- list --user alice --page-size 2 --cursor \S+ \(or --all\)$/m);
    const quoted = await mem(['list', '--user', "o'brien", '--filter', '{"category":"food"}', '--page-size', '1'], { env });
    expect(quoted.stdout).toBe('No memories.\n');

    for (const size of ['0', '1001', 'two']) {
      const refused = await mem(['list', '--user', 'alice', '--page-size', size], { env });
      expect(refused.code).toBe(2);
      expect(refused.stderr).toBe(
        `mem: Invalid --page-size: expected an integer from 1 to 1000, got "${size}". Pass e.g. --page-size 20.\n`,
      );
    }
    const refusedJson = await mem(['list', '--user', 'alice', '--page-size', '0', '--json'], { env });
    expect(JSON.parse(refusedJson.stderr).error).toMatchObject({ code: 'INVALID_INPUT', field: '--page-size' });
    const all = JSON.parse((await mem(['list', '--user', 'alice', '--page-size', '2', '--all', '--json'], { env })).stdout);
    expect(all.results.map((item: { text: string }) => item.text)).toEqual([
      'I drink green tea every morning',
      'I live in Lisbon',
      'I have a cat called Miso',
    ]);
    expect(all.nextCursor).toBeUndefined();
  });

  it('gets one memory, and exits 3 when it is not in the scope', async () => {
    const got = await mem(['get', teaId, '--user', 'alice'], { env });
    expect(got.code).toBe(0);
    expect(got.stdout).toContain('text     I drink green tea every morning');
    expect(got.stdout).toContain('metadata {"category":"food"}');
    const json = JSON.parse((await mem(['get', teaId, '--user', 'alice', '--json'], { env })).stdout);
    expect(json).toMatchObject({ id: teaId, scope: { userId: 'alice' } });
    const elsewhere = await mem(['get', teaId, '--user', 'bob'], { env });
    expect(elsewhere.code).toBe(3);
    expect(elsewhere.stderr).toContain('No memory with id');
    expect((await mem(['get', 'no-such-id', '--user', 'alice', '--json'], { env })).code).toBe(3);
  });

  it('deletes one memory (exit 3 the second time), shows its history, and deletes a scope with --all', async () => {
    expect((await mem(['delete', teaId, '--user', 'alice'], { env })).code).toBe(0);
    expect((await mem(['delete', teaId, '--user', 'alice'], { env })).code).toBe(3);
    const history = await mem(['history', teaId, '--user', 'alice'], { env });
    expect(history.code).toBe(0);
    expect(history.stdout).toMatch(/ADD\s+add\s+I drink green tea every morning/);
    expect(history.stdout).toMatch(/DELETE\s+delete\s+I drink green tea every morning → \(deleted\)/);
    expect((await mem(['history', 'never-existed', '--user', 'alice'], { env })).code).toBe(3);
    expect((await mem(['delete', '--user', 'alice'], { env })).code).toBe(2);
    const all = await mem(['delete', '--all', '--user', 'alice', '--json'], { env });
    expect(JSON.parse(all.stdout)).toEqual({ deleted: 2 });
    expect((await mem(['list', '--user', 'alice'], { env })).stdout).toBe('No memories.\n');
  });
});

describe('mem import and export', () => {
  it('imports JSONL messages with a summary (no progress bar when stderr is not a terminal)', async () => {
    const env = database('jsonl');
    const file = join(dir, 'messages.jsonl');
    writeFileSync(
      file,
      [
        JSON.stringify({
          messages: [{ role: 'user', content: 'I am allergic to peanuts' }],
          metadata: { topic: 'health' },
          occurredAt: '2024-01-02T00:00:00Z',
        }),
        '',
        JSON.stringify({ role: 'user', content: 'My sister lives in Porto', userId: 'carol' }),
        JSON.stringify({ messages: 'I run every Sunday' }),
      ].join('\n'),
    );
    // Without --user, each line's own scope; a line without one fails (and the others go on).
    const ownScopes = await mem(['import', file, '--json'], { env: database('jsonl-own-scopes') });
    expect(ownScopes.code).toBe(1);
    expect(JSON.parse(ownScopes.stdout)).toMatchObject({ items: 3, failed: 2, rescoped: 0, events: { ADD: 1 } });

    const imported = await mem(['import', file, '--user', 'alice'], { env });
    expect(imported.code).toBe(0);
    expect(imported.stdout).toBe(
      'Imported 3 of 3 lines (jsonl, infer off): 3 added, 0 updated, 0 deleted, 0 unchanged.\n' +
        '1 line named another scope and went to user alice as asked (exported memories among them are new memories there, with new ids; the originals are untouched).\n',
    );
    expect(imported.stderr).toBe('');
    const alice = JSON.parse((await mem(['list', '--user', 'alice', '--json'], { env })).stdout);
    expect(alice.results.map((item: { text: string }) => item.text)).toEqual([
      'I am allergic to peanuts',
      'My sister lives in Porto',
      'I run every Sunday',
    ]);
    expect(alice.results[0]).toMatchObject({ metadata: { topic: 'health' }, occurredAt: '2024-01-02T00:00:00.000Z' });
    const carol = JSON.parse((await mem(['list', '--user', 'carol', '--json'], { env })).stdout);
    expect(carol.results).toEqual([]);
  });

  it('reports lines that fail and exits 1; exits 2 for a line that is not JSON', async () => {
    const env = database('jsonl-errors');
    const file = join(dir, 'bad.jsonl');
    writeFileSync(
      file,
      [JSON.stringify({ messages: 'fine' }), JSON.stringify({ messages: 'bad metadata', metadata: { userId: 'x' } })].join('\n'),
    );
    const partly = await mem(['import', file, '--user', 'alice', '--json'], { env });
    expect(partly.code).toBe(1);
    const summary = JSON.parse(partly.stdout);
    expect(summary).toMatchObject({ items: 2, failed: 1, events: { ADD: 1 }, failures: [{ source: 'line 2' }] });
    writeFileSync(file, 'not json\n');
    const broken = await mem(['import', file, '--user', 'alice'], { env });
    expect(broken.code).toBe(2);
    expect(broken.stderr).toContain('line 1');
  });

  it('imports LOCOMO conversations: one add per session, at the session date, speakers named, photos captioned', async () => {
    const env = database('locomo');
    const file = join(dir, 'locomo.json');
    writeFileSync(
      file,
      JSON.stringify([
        {
          sample_id: 'conv-1',
          qa: [],
          conversation: {
            speaker_a: 'Caroline',
            speaker_b: 'Melanie',
            session_2_date_time: '7:10 pm on 20 May, 2023',
            session_2: [{ speaker: 'Melanie', dia_id: 'D2:1', text: 'Look at my garden', blip_caption: 'a photo of tomatoes' }],
            session_1_date_time: '1:56 pm on 8 May, 2023',
            session_1: [
              { speaker: 'Caroline', dia_id: 'D1:1', text: 'I went to a support group yesterday.' },
              { speaker: 'Melanie', dia_id: 'D1:2', text: 'That sounds brave.' },
            ],
          },
        },
      ]),
    );
    const imported = await mem(['import', file], { env });
    expect(imported.code).toBe(0);
    expect(imported.stdout).toBe('Imported 2 of 2 sessions (locomo, infer off): 3 added, 0 updated, 0 deleted, 0 unchanged.\n');
    const listed = JSON.parse((await mem(['list', '--user', 'conv-1', '--json'], { env })).stdout);
    expect(
      listed.results.map((item: { text: string; occurredAt: string; metadata: unknown }) => [item.text, item.occurredAt, item.metadata]),
    ).toEqual([
      ['Caroline: I went to a support group yesterday.', '2023-05-08T13:56:00.000Z', { source: 'locomo', sample: 'conv-1', session: 1 }],
      ['Melanie: That sounds brave.', '2023-05-08T13:56:00.000Z', { source: 'locomo', sample: 'conv-1', session: 1 }],
      [
        'Melanie: Look at my garden [shares a photo: a photo of tomatoes]',
        '2023-05-20T19:10:00.000Z',
        { source: 'locomo', sample: 'conv-1', session: 2 },
      ],
    ]);
  });

  const locomo = join(cliRoot, '..', '..', '..', 'shared', 'data', 'locomo', 'locomo10.json');
  it.skipIf(!existsSync(locomo))(
    'imports the first conversation of the real locomo10.json (skipped when ../shared/data is absent)',
    async () => {
      const sample = JSON.parse(readFileSync(locomo, 'utf8'))[0];
      const file = join(dir, 'locomo-first.json');
      writeFileSync(file, JSON.stringify([sample]));
      const sessions = Object.keys(sample.conversation).filter(
        (key) => /^session_\d+$/.test(key) && sample.conversation[key].length > 0,
      ).length;
      const turns = Object.keys(sample.conversation)
        .filter((key) => /^session_\d+$/.test(key))
        .reduce((sum, key) => sum + sample.conversation[key].length, 0);
      const imported = await mem(['import', file, '--user', 'locomo-user', '--json'], { env: database('locomo-real') });
      expect(imported.code).toBe(0);
      expect(JSON.parse(imported.stdout)).toMatchObject({ format: 'locomo', items: sessions, failed: 0, events: { ADD: turns } });
    },
  );

  it('exports JSONL that imports back with the same ids, texts, metadata and dates', async () => {
    const source = database('export-source');
    await mem(['add', 'I play the cello', '--user', 'dan', '--metadata', '{"hobby":true}', '--occurred-at', '2022-03-04T05:06:07Z'], {
      env: source,
    });
    await mem(['add', 'I work night shifts', '--user', 'dan'], { env: source });
    const exported = await mem(['export', '--user', 'dan'], { env: source });
    expect(exported.code).toBe(0);
    const lines = exported.stdout
      .trim()
      .split('\n')
      .map((line) => JSON.parse(line));
    expect(lines).toHaveLength(2);

    const file = join(dir, 'export.jsonl');
    expect((await mem(['export', '--user', 'dan', '-o', file], { env: source })).stderr).toBe(`Exported 2 memories to ${file}.\n`);
    const target = database('export-target');
    const imported = await mem(['import', file], { env: target });
    expect(imported.stdout).toContain('2 records restored');
    const restored = (await mem(['export', '--user', 'dan'], { env: target })).stdout
      .trim()
      .split('\n')
      .map((line) => JSON.parse(line));
    expect(restored).toEqual(lines);
    const search = JSON.parse((await mem(['search', 'cello', '--user', 'dan', '--json'], { env: target })).stdout);
    expect(search.results[0].text).toBe('I play the cello');
  });

  it("imports bob's export with --user carol as carol's copies (new ids, same texts and dates), leaving bob's memories as they were", async () => {
    const env = database('rescope');
    await mem(['add', 'I play the cello', '--user', 'bob', '--occurred-at', '2022-03-04T05:06:07Z'], { env });
    await mem(['add', 'I work night shifts', '--user', 'bob', '--metadata', '{"shift":"night"}'], { env });
    const file = join(dir, 'bob.jsonl');
    await mem(['export', '--user', 'bob', '-o', file], { env });
    const bobBefore = (await mem(['export', '--user', 'bob'], { env })).stdout;

    const imported = await mem(['import', file, '--user', 'carol'], { env });
    expect(imported.code).toBe(0);
    expect(imported.stdout).toContain('2 records restored');
    expect(imported.stdout).toContain('2 lines named another scope and went to user carol as asked');

    const bob = (await mem(['export', '--user', 'bob'], { env })).stdout;
    expect(bob).toBe(bobBefore);
    const carol = JSON.parse((await mem(['list', '--user', 'carol', '--json'], { env })).stdout).results;
    const bobs = bob
      .trim()
      .split('\n')
      .map((line) => JSON.parse(line));
    expect(carol).toHaveLength(2);
    carol.forEach((copy: Record<string, unknown>, index: number) => {
      const original = bobs[index];
      expect(copy).toMatchObject({
        text: original.text,
        metadata: original.metadata,
        scope: { userId: 'carol' },
        createdAt: original.createdAt,
        occurredAt: original.occurredAt,
      });
      expect(copy.id).not.toBe(original.id);
    });
    // Imported again without --user, the same export restores bob's memories in place: no copy.
    expect((await mem(['import', file], { env })).stdout).not.toContain('another scope');
    expect((await mem(['export', '--user', 'bob'], { env })).stdout).toBe(bobBefore);
  });
});

describe('mem keys and mem serve', () => {
  it('creates, lists and revokes keys in the keys file, which holds hashes only', async () => {
    const keysFile = join(dir, 'keys.json');
    const created = await mem(['keys', 'create', '--id', 'alice-app', '--user-id', 'alice', '--keys-file', keysFile, '--json']);
    expect(created.code).toBe(0);
    const { key } = JSON.parse(created.stdout);
    expect(key).toMatch(/^mem_/);
    expect(readFileSync(keysFile, 'utf8')).not.toContain(key);
    const listed = await mem(['keys', 'list', '--keys-file', keysFile]);
    expect(listed.stdout).toMatch(/alice-app\s+no\s+alice\s+\*\s+\*/);
    expect((await mem(['keys', 'create', '--id', 'x', '--keys-file', keysFile])).code).toBe(2);
    // A key id that is taken: the server's message, as for every other mistake (no internal class name).
    const taken = await mem(['keys', 'create', '--id', 'alice-app', '--user-id', 'alice', '--keys-file', keysFile]);
    expect(taken.code).toBe(2);
    expect(taken.stderr).toBe('mem: A key with id "alice-app" exists. Pick another id, or revoke that key first.\n');
    const takenJson = await mem(['keys', 'create', '--id', 'alice-app', '--user-id', 'alice', '--keys-file', keysFile, '--json']);
    expect(JSON.parse(takenJson.stderr)).toEqual({
      error: { code: 'CONFLICT', message: 'A key with id "alice-app" exists. Pick another id, or revoke that key first.', field: 'id' },
    });
    expect((await mem(['keys', 'revoke', 'alice-app', '--keys-file', keysFile])).code).toBe(0);
    expect((await mem(['keys', 'revoke', 'alice-app', '--keys-file', keysFile])).code).toBe(3);
  });

  it('serves the REST API on the same database and stops on SIGTERM with exit 0', async () => {
    const env = {
      ...database('serve'),
      MEM_API_KEYS: JSON.stringify([{ id: 'cli', key: 'cli-serve-key-0123456789', userIds: ['alice'] }]),
    };
    await mem(['add', 'Served from the CLI database', '--user', 'alice'], { env });
    const child = spawn(process.execPath, ['--import', 'tsx', `${cliRoot}/src/bin.ts`, 'serve', '--port', '0', '--read-workers', '1'], {
      cwd: cliRoot,
      env: { PATH: process.env.PATH ?? '', ...env },
      stdio: ['ignore', 'ignore', 'pipe'],
    });
    let stderr = '';
    const url = await new Promise<string>((resolve, reject) => {
      child.stderr.on('data', (chunk: Buffer) => {
        stderr += chunk.toString();
        const match = /"msg":"listening","url":"([^"]+)"/.exec(stderr);
        if (match) resolve(match[1]!);
      });
      child.on('exit', () => reject(new Error(stderr)));
    });
    const exited = new Promise<number | null>((resolve) => child.on('exit', resolve));
    const response = await fetch(`${url}/v1/memories`, { headers: { authorization: 'Bearer cli-serve-key-0123456789' } });
    expect(((await response.json()) as { results: { text: string }[] }).results.map((item) => item.text)).toEqual([
      'Served from the CLI database',
    ]);
    // --read-workers reaches the server's settings (its starting line reports them).
    expect(stderr).toMatch(/"msg":"starting"[^\n]*"readWorkers":1/);
    child.kill('SIGTERM');
    expect(await exited).toBe(0);
  });
});
