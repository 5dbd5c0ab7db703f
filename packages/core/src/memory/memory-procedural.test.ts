import { describe, expect, it } from 'vitest';
import { defineVectorStoreCapabilities } from '../contract/capabilities';
import { MemError } from '../contract/errors';
import { MEMORY_TYPE_KEY, type ChatMessage } from '../contract/types';
import { InMemoryHistoryStore, InMemoryVectorStore, Memory, type FilterInput } from '../index';
import { DEFAULT_PROCEDURAL_INSTRUCTIONS, LANGUAGE_INSTRUCTION } from '../llm/prompts';
import { HashEmbedder, ScriptedLLM, type ScriptStep } from '../testing';

const agent = { userId: 'alice', agentId: 'deployer' };
const T0 = Date.parse('2024-05-08T10:00:00Z');

function setup(script: ScriptStep[] = [], options: { llm?: boolean; procedural?: string; vectorStore?: InMemoryVectorStore } = {}) {
  const llm = new ScriptedLLM(script);
  const vectorStore = options.vectorStore ?? new InMemoryVectorStore();
  const historyStore = new InMemoryHistoryStore();
  const memory = new Memory({
    ...(options.llm === false ? {} : { llm }),
    embedder: new HashEmbedder({ dimensions: 32 }),
    vectorStore,
    historyStore,
    now: () => new Date(T0),
    ...(options.procedural ? { prompts: { procedural: options.procedural } } : {}),
  });
  return { memory, llm, vectorStore, historyStore };
}

/** An agent's run: a task, tool calls with their arguments, results (one failing), and the answer. */
const RUN: ChatMessage[] = [
  { role: 'system', content: 'You are a deploy agent.' },
  { role: 'user', content: 'Deploy build 4821 of the billing service to staging.' },
  {
    role: 'assistant',
    content: '',
    toolCalls: [{ id: 'call_1', name: 'run_shell', arguments: '{"command":"kubectl rollout restart deploy/billing -n staging"}' }],
  },
  { role: 'tool', toolCallId: 'call_1', name: 'run_shell', content: 'Error from server (NotFound): deployments.apps "billing" not found' },
  {
    role: 'assistant',
    content: 'The deployment is called billing-api, retrying.',
    toolCalls: [
      {
        id: 'call_2',
        name: 'run_shell',
        arguments: { command: 'kubectl set image deploy/billing-api api=registry/billing:4821 -n staging' },
      },
    ],
  },
  { role: 'tool', toolCallId: 'call_2', content: 'deployment.apps/billing-api image updated' },
  { role: 'assistant', content: 'Build 4821 is rolling out on staging.' },
];

const SUMMARY =
  'Task: deploy billing build 4821 to staging (completed).\n1. run_shell `kubectl rollout restart deploy/billing -n staging` failed: Error from server (NotFound): deployments.apps "billing" not found.\n2. run_shell `kubectl set image deploy/billing-api api=registry/billing:4821 -n staging`: deployment.apps/billing-api image updated.\nAvoid: the deployment is billing-api, not billing.';

const summary = (text = SUMMARY): ScriptStep => ({ json: { summary: text } });

describe('procedural memory', () => {
  it('summarises an agent run, tool calls and results included, into ONE memory of type procedural with ONE LLM call', async () => {
    const { memory, llm, historyStore } = setup([summary()]);
    const result = await memory.add(RUN, { scope: agent, memoryType: 'procedural', metadata: { task: 'deploy' } });

    expect(llm.requests).toHaveLength(1);
    expect(result.usage.llmCalls).toBe(1);
    expect(result.events).toEqual([{ kind: 'ADD', id: expect.any(String), text: SUMMARY }]);
    expect(result.memories).toHaveLength(1);
    expect(result.memories[0]).toMatchObject({ text: SUMMARY, memoryType: 'procedural', metadata: { task: 'deploy' }, scope: agent });

    // The prompt: our procedural instructions, and the run with every call, argument, id and result verbatim.
    const [system, user] = llm.requests[0]!.messages;
    expect(system!.content).toContain(DEFAULT_PROCEDURAL_INSTRUCTIONS);
    expect(system!.content).toContain('{"summary":string}');
    expect(llm.requests[0]!.responseFormat).toMatchObject({ type: 'json', name: 'procedural_memory' });
    for (const line of [
      'user: Deploy build 4821 of the billing service to staging.',
      'assistant calls run_shell({"command":"kubectl rollout restart deploy/billing -n staging"}) [call_1]',
      'tool (run_shell, result of call_1): Error from server (NotFound): deployments.apps "billing" not found',
      'assistant: The deployment is called billing-api, retrying.',
      'assistant calls run_shell({"command":"kubectl set image deploy/billing-api api=registry/billing:4821 -n staging"}) [call_2]',
      'tool (result of call_2): deployment.apps/billing-api image updated',
    ])
      expect(user!.content).toContain(line);
    expect(user!.content).not.toContain('You are a deploy agent.');

    // Stored with the type under the reserved key; get and history see it.
    const stored = await memory.get(result.events[0]!.id, { scope: agent });
    expect(stored).toMatchObject({ memoryType: 'procedural', metadata: { task: 'deploy' } });
    expect(stored!.metadata).not.toHaveProperty(MEMORY_TYPE_KEY);
    expect(await historyStore.list({ memoryId: result.events[0]!.id })).toMatchObject([{ kind: 'ADD', text: SUMMARY }]);
  });

  it('never reconciles: each run is a new memory, facts are not shown the summaries and do not touch them', async () => {
    const { memory, llm } = setup([
      summary(),
      summary('Task: deploy billing build 4822 to staging (completed).'),
      { json: { operations: [{ op: 'ADD', id: null, text: 'Works on the billing service' }] } },
    ]);
    const first = await memory.add(RUN, { scope: agent, memoryType: 'procedural' });
    const second = await memory.add(RUN, { scope: agent, memoryType: 'procedural' });
    expect(second.events[0]!.kind).toBe('ADD');
    expect(second.events[0]!.id).not.toBe(first.events[0]!.id);
    // The procedural call is shown no existing memory.
    expect(llm.requests[1]!.messages[1]!.content).not.toContain('Existing memories');
    await memory.add('I work on the billing service, build 4821', { scope: agent });
    // The fact extraction is not shown the procedural memories as candidates.
    expect(llm.requests[2]!.messages[1]!.content).toContain('Existing memories:\n(none)');
    const all = (await memory.getAll({ scope: agent })).results;
    expect(all.map((item) => [item.memoryType ?? 'semantic', item.text])).toEqual([
      ['procedural', SUMMARY],
      ['procedural', 'Task: deploy billing build 4822 to staging (completed).'],
      ['semantic', 'Works on the billing service'],
    ]);
  });

  it('an identical summary is not stored twice as a procedural memory, and never matched to a fact with the same text', async () => {
    const { memory } = setup([
      summary('Restart the worker with systemctl restart worker'),
      summary('Restart the worker with systemctl restart worker'),
    ]);
    const fact = await memory.add('Restart the worker with systemctl restart worker', { scope: agent, infer: false });
    const first = await memory.add(RUN, { scope: agent, memoryType: 'procedural' });
    expect(first.events[0]).toMatchObject({ kind: 'ADD' });
    expect(first.events[0]!.id).not.toBe(fact.events[0]!.id);
    const again = await memory.add(RUN, { scope: agent, memoryType: 'procedural' });
    expect(again.events[0]).toEqual({ kind: 'NONE', id: first.events[0]!.id, text: 'Restart the worker with systemctl restart worker' });
  });

  it('is searchable and filterable by type: filter on memoryType, natively or by core', async () => {
    // The in-memory store evaluates every operator; the narrow one only eq, in and and ($ne: core evaluates it).
    const narrow = new (class extends InMemoryVectorStore {
      override readonly capabilities = defineVectorStoreCapabilities({ filterOperators: ['eq', 'in', 'and'] });
    })();
    for (const vectorStore of [new InMemoryVectorStore(), narrow]) {
      const { memory } = setup([summary()], { vectorStore });
      await memory.add('Deploys go to staging first', { scope: agent, infer: false });
      await memory.add(RUN, { scope: agent, memoryType: 'procedural' });
      const search = (filter?: FilterInput) =>
        memory.search('deploy billing staging', { scope: agent, ...(filter ? { filter } : {}) }).then((response) => response.results);
      expect((await search()).map((item) => item.memoryType ?? 'semantic').sort()).toEqual(['procedural', 'semantic']);
      expect((await search({ memoryType: 'procedural' })).map((item) => item.text)).toEqual([SUMMARY]);
      expect((await search({ memoryType: { $ne: 'procedural' } })).map((item) => item.text)).toEqual(['Deploys go to staging first']);
      const listed = await memory.getAll({ scope: agent, filter: { memoryType: 'procedural' } });
      expect(listed.results.map((item) => item.text)).toEqual([SUMMARY]);
    }
  });

  it('a custom procedural prompt replaces ours: prompts.procedural on Memory, or prompt on the call', async () => {
    const { memory, llm } = setup([summary(), summary('Second run')], { procedural: 'List only the shell commands run, one per line.' });
    await memory.add(RUN, { scope: agent, memoryType: 'procedural' });
    expect(llm.requests[0]!.messages[0]!.content).toContain('List only the shell commands run, one per line.');
    expect(llm.requests[0]!.messages[0]!.content).not.toContain(DEFAULT_PROCEDURAL_INSTRUCTIONS);
    // Custom instructions keep the language rule.
    expect(llm.requests[0]!.messages[0]!.content).toContain(LANGUAGE_INSTRUCTION);
    await memory.add(RUN, { scope: agent, memoryType: 'procedural', prompt: 'Only the failures, verbatim.' });
    expect(llm.requests[1]!.messages[0]!.content).toContain('Only the failures, verbatim.');
    expect(llm.requests[1]!.messages[0]!.content).not.toContain('List only the shell commands');
  });

  it('needs an LLM: infer false or no llm is a typed error, nothing written', async () => {
    const { memory } = setup([], { llm: false });
    await expect(memory.add(RUN, { scope: agent, memoryType: 'procedural' })).rejects.toMatchObject({
      code: 'MISSING_SETTING',
      message: expect.stringContaining('procedural memory is a summary of the run written by an LLM'),
    });
    const withLlm = setup([]);
    await expect(withLlm.memory.add(RUN, { scope: agent, memoryType: 'procedural', infer: false })).rejects.toMatchObject({
      code: 'INVALID_INPUT',
      field: 'options.infer',
      message: expect.stringContaining('written by an LLM'),
    });
    await expect(withLlm.memory.add(RUN, { scope: agent, memoryType: 'episodic' as never })).rejects.toMatchObject({
      field: 'options.memoryType',
    });
    await expect(
      withLlm.memory.add(RUN, { scope: agent, memoryType: 'procedural', categories: [{ name: 'deploys' }] }),
    ).rejects.toMatchObject({ field: 'options.categories' });
    // The type is reserved: not settable as metadata.
    await expect(withLlm.memory.add('x', { scope: agent, infer: false, metadata: { memoryType: 'procedural' } })).rejects.toMatchObject({
      field: 'options.metadata.memoryType',
    });
    expect(withLlm.llm.requests).toHaveLength(0);
    expect((await withLlm.memory.getAll({ scope: agent })).results).toEqual([]);
  });

  it('an unusable summary (empty, over the limit of a memory text) is retried once, then PROVIDER_RESPONSE_INVALID, nothing written', async () => {
    const { memory, llm } = setup([summary('   '), summary('x'.repeat(10_001))]);
    await expect(memory.add(RUN, { scope: agent, memoryType: 'procedural' })).rejects.toMatchObject({ code: 'PROVIDER_RESPONSE_INVALID' });
    expect(llm.requests).toHaveLength(2);
    expect(llm.requests[1]!.messages.at(-1)!.content).toContain('the summary is empty');
    expect((await memory.getAll({ scope: agent })).results).toEqual([]);
  });

  it('survives update (text re-embedded, type kept) and export/import (type restored from the metadata)', async () => {
    const { memory, vectorStore } = setup([summary()]);
    const { events } = await memory.add(RUN, { scope: agent, memoryType: 'procedural' });
    const id = events[0]!.id;
    const { memory: updated } = await memory.update(
      id,
      { text: 'Deploy with kubectl set image', metadata: { checked: true } },
      { scope: agent },
    );
    expect(updated).toMatchObject({ memoryType: 'procedural', metadata: { checked: true } });
    const [record] = await vectorStore.get({ scope: agent, ids: [id] });
    const copy = setup();
    await copy.memory.importRecords([record!]);
    expect(await copy.memory.get(id, { scope: agent })).toMatchObject({ memoryType: 'procedural', text: 'Deploy with kubectl set image' });
    await expect(copy.memory.importRecords([{ ...record!, metadata: { [MEMORY_TYPE_KEY]: 'episodic' } }])).rejects.toMatchObject({
      field: 'records[0].metadata.memoryType',
    });
  });
});

describe('messages with tool calls', () => {
  const bad: [string, unknown, string][] = [
    ['tool calls on a user message', { role: 'user', content: 'x', toolCalls: [{ name: 'a' }] }, 'messages[0].toolCalls'],
    ['tool calls not an array', { role: 'assistant', content: '', toolCalls: { name: 'a' } }, 'messages[0].toolCalls'],
    ['a tool call that is not an object', { role: 'assistant', content: '', toolCalls: ['a'] }, 'messages[0].toolCalls[0]'],
    ['a tool call without a name', { role: 'assistant', content: '', toolCalls: [{ id: 'c1' }] }, 'messages[0].toolCalls[0].name'],
    ['a blank tool name', { role: 'assistant', content: '', toolCalls: [{ name: '  ' }] }, 'messages[0].toolCalls[0].name'],
    [
      'numeric arguments',
      { role: 'assistant', content: '', toolCalls: [{ name: 'a', arguments: 5 }] },
      'messages[0].toolCalls[0].arguments',
    ],
    ['a numeric call id', { role: 'assistant', content: '', toolCalls: [{ name: 'a', id: 7 }] }, 'messages[0].toolCalls[0].id'],
    ['a hole in the calls', { role: 'assistant', content: '', toolCalls: [{ name: 'a' }, undefined] }, 'messages[0].toolCalls[1]'],
    [
      '65 tool calls',
      { role: 'assistant', content: '', toolCalls: Array.from({ length: 65 }, () => ({ name: 'a' })) },
      'messages[0].toolCalls',
    ],
    ['toolCallId on an assistant message', { role: 'assistant', content: 'x', toolCallId: 'c1' }, 'messages[0].toolCallId'],
    ['OpenAI tool_calls', { role: 'assistant', content: null, tool_calls: [] }, 'messages[0].tool_calls'],
    ['OpenAI tool_call_id', { role: 'tool', content: 'ok', tool_call_id: 'c1' }, 'messages[0].tool_call_id'],
    ['null content without tool calls', { role: 'assistant', content: null }, 'messages[0].content'],
  ];
  for (const [what, message, field] of bad) {
    it(`${what}: INVALID_INPUT naming ${field}, no LLM call`, async () => {
      const { memory, llm } = setup([summary()]);
      const error = await memory.add([message as ChatMessage], { scope: agent, memoryType: 'procedural' }).catch((thrown) => thrown);
      expect(MemError.is(error, 'INVALID_INPUT')).toBe(true);
      expect(error.field).toBe(field);
      expect(llm.requests).toHaveLength(0);
    });
  }

  it('are accepted in ordinary adds too: shown to extraction, skipped when stored as given', async () => {
    const { memory, llm } = setup([{ json: { operations: [] } }]);
    await memory.add(RUN, { scope: agent });
    expect(llm.requests[0]!.messages[1]!.content).toContain('[call_2]');
    const raw = await memory.add(RUN, { scope: agent, infer: false });
    expect(raw.events.map((event) => event.text)).toEqual([
      'Deploy build 4821 of the billing service to staging.',
      'run_shell: Error from server (NotFound): deployments.apps "billing" not found',
      'The deployment is called billing-api, retrying.',
      'deployment.apps/billing-api image updated',
      'Build 4821 is rolling out on staging.',
    ]);
  });
});
