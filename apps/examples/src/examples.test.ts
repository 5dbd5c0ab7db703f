import { execFile } from 'node:child_process';
import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { promisify } from 'node:util';
import { describe, expect, it } from 'vitest';

const run = promisify(execFile);
const root = fileURLToPath(new URL('..', import.meta.url));

/** Runs an example as a user would, offline: no provider variables, so no LLM and the lexical embedder. */
async function example(name: string, args: readonly string[] = [], settings: { readonly MEM_DB?: string } = {}): Promise<string> {
  const env = { ...process.env };
  for (const key of ['OPENAI_API_KEY', 'OPENAI_BASE_URL', 'ANTHROPIC_API_KEY', 'MEM_DB']) delete env[key];
  const { stdout } = await run(process.execPath, ['--import', 'tsx', `src/${name}.ts`, ...args], {
    cwd: root,
    env: { ...env, ...settings },
  });
  return stdout;
}

describe('examples run offline and print what they stored and found', () => {
  it('quickstart', async () => {
    const out = await example('quickstart');
    expect(out).toContain('Set OPENAI_API_KEY, ANTHROPIC_API_KEY or OPENAI_BASE_URL to switch on fact extraction');
    expect(out).toMatch(/ADD +\S+ +Hi, I'm Alice\. I'm vegetarian and allergic to peanuts\./);
    // The search finds the dietary message first.
    expect(out.split('== search')[1]!.split('\n')[1]).toContain('vegetarian');
    expect(out).toMatch(/UPDATE .*\(confirmed\)/);
    expect(out).toContain("bob's results: 0");
  });

  it('vector-memory', async () => {
    const out = await example('vector-memory');
    expect(out).toContain('deleted 2');
    expect(out).toContain('kept: My favourite cuisine is Japanese, especially ramen.');
    expect(out.split('filtered to topic = food')[1]).not.toContain('Kyoto');
  });

  it('graph-memory', async () => {
    const out = await example('graph-memory');
    expect(out).toContain('DEMONSTRATION ONLY: the graph below is written');
    const [, , live, sister, now] = out.split('== ');
    // The closed relation keeps its validity period; the current one is open and ranked first.
    expect(live!.split('relations:\n')[1]!.split('\n')[0]).toMatch(/user -\[lives_in\]-> berlin +valid 2024-06-10 08:15 \.\. now/);
    expect(live).toMatch(/user -\[lives_in\]-> lisbon +valid 2024-01-15 09:00 \.\. 2024-06-10 08:15/);
    expect(sister).toMatch(/entities: maria \(person/);
    expect(sister).toMatch(/maria -\[works_as\]-> nurse/);
    expect(now).not.toContain('lisbon');
  });

  // Without a key these two show their feature through core's ScriptedLLM, and say so first.
  it('custom-fact-prompt: only the dietary facts, labelled as a scripted demonstration', async () => {
    const out = await example('custom-fact-prompt');
    expect(
      out.startsWith("DEMONSTRATION: no LLM is configured (OPENAI_API_KEY, ANTHROPIC_API_KEY or OPENAI_BASE_URL), so core's ScriptedLLM"),
    ).toBe(true);
    expect(out).toContain('SCRIPTED LLM (prepared replies, not a model)');
    expect(out).toContain('Remember only facts about what the user eats');
    expect(out).toContain('(the request carried the custom system prompt above: yes)');
    expect(out.split('== stored\n')[1]).toBe('Is vegan\nIs lactose intolerant\n');
  });

  it('custom-update-prompt: the move is an UPDATE keeping the previous city, labelled as a scripted demonstration', async () => {
    const out = await example('custom-update-prompt');
    expect(out.startsWith('DEMONSTRATION: no LLM is configured')).toBe(true);
    expect(out).toContain('Never use DELETE.');
    expect(out).toContain('2024-06-10  UPDATE Lives in Porto (previously Lisbon)  (was: Lives in Lisbon)');
    expect(out.split('== stored, with history\n')[1]).toBe('Lives in Porto (previously Lisbon)  [ADD -> UPDATE]\n');
  });

  it('procedural-memory: the run becomes one procedural memory, found by its type, labelled as a scripted demonstration', async () => {
    const out = await example('procedural-memory');
    expect(out.startsWith('DEMONSTRATION: no LLM is configured')).toBe(true);
    expect(out).toContain('Put the commands that worked last');
    expect(out).toContain('(LLM calls: 1)');
    const found = out.split('procedural memories only\n')[1]!.split('== everything else')[0]!;
    expect(found).toContain('[procedural]\nTask: deploy build 4821 of the billing service to staging (completed).');
    expect(found).not.toContain('stg-eu-1');
    expect(out.split('== everything else\n')[1]).toBe('The staging cluster is called stg-eu-1\n');
  });

  it('ai-sdk-chat: the second run remembers the first (withMemory, generateText then streamText)', async () => {
    const MEM_DB = join(mkdtempSync(join(tmpdir(), 'mem-example-')), 'chat.db');
    const first = await example('ai-sdk-chat', [], { MEM_DB });
    expect(first).toContain('OFFLINE (no OPENAI_API_KEY). A local stand-in server plays the model');
    expect(first).toContain("== alice: I'm vegetarian and I live in Lisbon.");
    expect(first).toContain('(generateText; memories in the prompt: 0, about 0 tokens)');
    expect(first.split('alice now remembers')[1]).toContain("- I'm vegetarian and I live in Lisbon.");

    const second = await example('ai-sdk-chat', ['--stream'], { MEM_DB });
    expect(second).toContain('alice has 2 memories before this run');
    expect(second).toContain('== alice: What should I cook tonight?');
    // What reached the model (the stand-in repeats it): the first run's message, from memory.
    expect(second).toMatch(/The memories I was given: .*- I'm vegetarian and I live in Lisbon\. \(\d{4}-\d\d-\d\d\)/);
    expect(second).toMatch(/\(streamText; memories in the prompt: 2, about \d+ tokens\)/);
    // A third run: the stand-in's earlier replies (stored as given) are counted, not quoted inside each other.
    const third = await example('ai-sdk-chat', ['What did I say?'], { MEM_DB });
    expect(third).toContain('alice has 4 memories before this run');
    const reply = third.split('== alice: What did I say?\n')[1]!.split('\n')[0]!;
    expect(reply).toMatch(/^\[offline stand-in\] The memories I was given: .*\(and \d of my own earlier replies\)$/);
    expect(reply.match(/\[offline stand-in\]/g)).toHaveLength(1);
  });

  it('ai-sdk-tools: the agent saves a fact with addMemory and lists it with listMemories', async () => {
    const out = await example('ai-sdk-tools', [], { MEM_DB: join(mkdtempSync(join(tmpdir(), 'mem-example-')), 'tools.db') });
    expect(out).toContain('OFFLINE (no OPENAI_API_KEY)');
    expect(out).toContain('step 1: addMemory({"text":"Is allergic to peanuts"})');
    expect(out).toMatch(/-> \{"events":\[\{"kind":"ADD","id":"[^"]+","text":"Is allergic to peanuts"\}\]\}/);
    expect(out).toContain('step 2: listMemories({})');
    expect(out).toContain('What I know about you: Is allergic to peanuts.');
  });
});
