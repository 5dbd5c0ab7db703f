import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Memory } from '@mem/core';
import { SqliteHistoryStore } from '@mem/history-sqlite';
import { OpenAIEmbedder, OpenAILLM } from '@mem/llm-openai';
import { SqliteVectorStore } from '@mem/vector-sqlite';
import { answerMem0Extract, factOf } from './answers';
import { FakeOpenAIServer, type ServerStats } from './fake-openai';
import { statsDelta } from './client';

let server: FakeOpenAIServer;
let baseURL: string;
let directory: string;

beforeAll(async () => {
  server = new FakeOpenAIServer();
  baseURL = `${await server.listen()}/v1`;
  directory = mkdtempSync(join(tmpdir(), 'bench-server-test-'));
});
afterAll(async () => {
  await server.close();
  rmSync(directory, { recursive: true, force: true });
});

function memory(name: string): Memory {
  const path = join(directory, `${name}.db`);
  return new Memory({
    llm: new OpenAILLM({ apiKey: 'test', baseURL, maxRetries: 0 }),
    embedder: new OpenAIEmbedder({ apiKey: 'test', baseURL, maxRetries: 0 }),
    vectorStore: new SqliteVectorStore({ path }),
    historyStore: new SqliteHistoryStore({ path }),
  });
}

const conversation = [
  { role: 'user' as const, content: 'I went to the LGBTQ support group yesterday and it was so powerful.', name: 'Caroline' },
  { role: 'assistant' as const, content: 'Wow, nice!', name: 'Melanie' },
];

describe('the local OpenAI-compatible server', () => {
  it("answers mem's reconcile call in the shape mem parses: one fact per substantive message, NONE when already stored", async () => {
    const mem = memory('reconcile');
    const first = await mem.add(conversation, { scope: { userId: 'caroline' } });
    expect(first.events.map((event) => [event.kind, event.text])).toEqual([
      ['ADD', 'Caroline: I went to the LGBTQ support group yesterday and it was so powerful.'],
    ]);
    expect(first.usage.llmCalls).toBe(1);
    const again = await mem.add(conversation, { scope: { userId: 'caroline' } });
    expect(again.events.map((event) => event.kind)).toEqual(['NONE']);
    const { results } = await mem.search('support group', { scope: { userId: 'caroline' } });
    expect(results).toHaveLength(1);
    await mem.close();
  });

  it('counts calls and tokens per request kind, and reports the same usage to the client', async () => {
    const before = server.stats();
    const mem = memory('counts');
    const { usage } = await mem.add(conversation, { scope: { userId: 'melanie' } });
    const delta = statsDelta(before, server.stats());
    expect(delta.byKind['chat:mem.reconcile']?.calls).toBe(1);
    expect(delta.llmCalls).toBe(1);
    expect(delta.promptTokens).toBe(usage.promptTokens);
    expect(delta.completionTokens).toBe(usage.completionTokens);
    expect(delta.promptTokens).toBeGreaterThan(100);
    expect(delta.embeddingCalls).toBe(usage.embeddingCalls);
    expect(delta.serverMs).toBeGreaterThan(0);
    await mem.close();
  });

  it('serves the same unit vector as floats and as base64, at the requested dimensions', async () => {
    const post = async (body: object) =>
      (await (await fetch(`${baseURL}/embeddings`, { method: 'POST', body: JSON.stringify(body) })).json()) as {
        data: { embedding: number[] | string }[];
      };
    const floats = (await post({ input: ['likes green tea'], model: 'text-embedding-3-small' })).data[0]!.embedding as number[];
    const encoded = (await post({ input: 'likes green tea', encoding_format: 'base64' })).data[0]!.embedding as string;
    const decoded = [...new Float32Array(Buffer.from(encoded, 'base64').buffer.slice(0))];
    expect(floats).toHaveLength(1536);
    expect(decoded).toHaveLength(1536);
    decoded.forEach((value, index) => expect(value).toBeCloseTo(floats[index]!, 6));
    expect(Math.sqrt(floats.reduce((sum, value) => sum + value * value, 0))).toBeCloseTo(1, 5);
    expect(((await post({ input: 'x y z', dimensions: 256 })).data[0]!.embedding as number[]).length).toBe(256);
  });

  it('serves its counters over HTTP and clears them on reset', async () => {
    const url = baseURL.replace(/\/v1$/, '');
    await fetch(`${baseURL}/embeddings`, { method: 'POST', body: JSON.stringify({ input: 'hello there' }) });
    const stats = (await (await fetch(`${url}/_stats`)).json()) as ServerStats;
    expect(stats.kinds['embeddings']!.calls).toBeGreaterThan(0);
    await fetch(`${url}/_reset`, { method: 'POST' });
    expect(((await (await fetch(`${url}/_stats`)).json()) as ServerStats).kinds).toEqual({});
  });

  it('rejects a malformed request with an OpenAI-style error', async () => {
    const response = await fetch(`${baseURL}/embeddings`, { method: 'POST', body: JSON.stringify({ input: [1, 2] }) });
    expect(response.status).toBe(400);
    expect(((await response.json()) as { error: { type: string } }).error.type).toBe('invalid_request_error');
  });
});

describe("answers to mem0ai's extraction prompt", () => {
  const prompt = [
    '## Summary\n',
    '## Last k Messages\nuser: Caroline: Hi!\n',
    '## Recently Extracted Memories\n[]',
    `## Existing Memories\n${JSON.stringify([{ id: '0', text: 'Melanie: I painted a lake sunrise last year.' }])}`,
    '## New Messages\nuser: Caroline: I went to the LGBTQ support group yesterday and it was so powerful.\nassistant: Melanie: I painted a lake sunrise last year.\nassistant: Melanie: Wow, nice!',
    '## Observation Date\n2023-05-08',
    '## Current Date\n2026-01-01',
    '# Output:',
  ].join('\n\n');

  it('extracts from the new messages only, skips what is stored and small talk, in its AdditiveExtractionSchema shape', () => {
    expect(answerMem0Extract(prompt)).toEqual({
      memory: [{ id: '0', text: 'Caroline: I went to the LGBTQ support group yesterday and it was so powerful.', attributed_to: 'user' }],
    });
  });

  it('derives the same fact text mem gets for the same message', () => {
    expect(factOf('Caroline', 'Hey Mel! Good to see you! How have you been?')).toBe(
      'Caroline: Hey Mel! Good to see you! How have you been?',
    );
    expect(factOf('Melanie', 'Thanks!')).toBeUndefined();
  });
});
