// Custom update instructions: change how new facts are reconciled with stored ones.
// Here: never delete; when a fact changes, keep both the old and new state in one memory.
// Without an LLM configured, core's ScriptedLLM answers as a model following these instructions does.
import { DEFAULT_EXTRACTION_INSTRUCTIONS, reconcileSystemPrompt } from '@mem/core';
import type { ScriptedRequest } from '@mem/core/testing';
import { announceScripted, createExampleMemory, heading } from './setup';

const update = `For each fact, pick one operation:
- ADD: a new fact. "id": null.
- UPDATE: the fact changes an existing memory. "id": that memory; "text": one statement with the new state and, in parentheses, the previous one ("Lives in Porto (previously Lisbon)").
- NONE: the fact is already stored. "id": that memory; "text": null.
Never use DELETE. Use only ids from "Existing memories".`;

/** The id the prompt gives a stored memory ("m1: Lives in Lisbon"), as a model reads it. */
function aliasOf(request: ScriptedRequest, text: string): string | null {
  const prompt = request.messages.map((message) => message.content).join('\n');
  return new RegExp(`^(m\\d+): ${text}$`, 'm').exec(prompt)?.[1] ?? null;
}

const { memory, infer, description, scripted } = createExampleMemory({
  prompts: { update },
  // The replies of a model that follows the instructions above: first a new fact; then, told of the
  // move, an UPDATE of that memory keeping the previous city, where the default instructions could
  // have replaced the text outright.
  script: [
    { json: { operations: [{ op: 'ADD', id: null, text: 'Lives in Lisbon' }] } },
    (request) =>
      JSON.stringify({
        operations: [{ op: 'UPDATE', id: aliasOf(request, 'Lives in Lisbon'), text: 'Lives in Porto (previously Lisbon)' }],
      }),
  ],
});
if (scripted) announceScripted('an UPDATE that keeps the previous state, as the instructions ask.');
console.log(`custom update prompt: ${description}`);
heading('the system prompt the LLM receives');
console.log(reconcileSystemPrompt(DEFAULT_EXTRACTION_INSTRUCTIONS, update));

const scope = { userId: 'lee' };
heading('two conversations, months apart');
for (const [content, date] of [
  ['I live in Lisbon.', '2024-01-10T12:00:00Z'],
  ['I moved to Porto last week.', '2024-06-10T12:00:00Z'],
] as const) {
  const { events } = await memory.add(content, { scope, infer, occurredAt: new Date(date) });
  for (const event of events)
    console.log(`${date.slice(0, 10)}  ${event.kind.padEnd(6)} ${event.text}${event.previousText ? `  (was: ${event.previousText})` : ''}`);
}
heading('stored, with history');
for (const item of (await memory.getAll({ scope })).results) {
  const history = await memory.history(item.id, { scope });
  console.log(`${item.text}  [${history.map((e) => e.kind).join(' -> ')}]`);
}
await memory.close();
