// The main job: add a short conversation, search it, and show the memories, events and history.
// Runs on the embedded default (one SQLite file, no server). With no API key it stores the
// messages as given; with OPENAI_API_KEY / ANTHROPIC_API_KEY / OPENAI_BASE_URL it extracts facts.
import { createExampleMemory, heading, when } from './setup';

const { memory, infer, description } = createExampleMemory();
console.log(`mem quickstart: ${description}`);
const scope = { userId: 'alice' };

heading('add: a conversation from 10 June 2024');
const added = await memory.add(
  [
    { role: 'user', content: "Hi, I'm Alice. I'm vegetarian and allergic to peanuts." },
    { role: 'assistant', content: 'Nice to meet you, Alice! I will keep that in mind for recipes.' },
    { role: 'user', content: 'I moved to Lisbon last month and I am learning Portuguese.' },
  ],
  { scope, infer, occurredAt: new Date('2024-06-10T18:00:00Z'), metadata: { source: 'quickstart' } },
);
for (const event of added.events) console.log(`${event.kind.padEnd(6)} ${event.id}  ${event.text}`);
console.log(`usage: ${JSON.stringify(added.usage)}`);

heading('search: "Is Alice vegetarian?"');
const { results } = await memory.search('Is Alice vegetarian?', { scope, limit: 3 });
for (const result of results) console.log(`${result.score.toFixed(3)}  ${result.text}`);

heading('memories of alice');
const all = await memory.getAll({ scope });
for (const item of all.results) console.log(`${item.id}  ${when(item.occurredAt)}  ${item.text}  ${JSON.stringify(item.metadata)}`);

const first = all.results[0]!;
heading(`update ${first.id}, then its history`);
await memory.update(first.id, `${first.text} (confirmed)`, { scope });
for (const event of await memory.history(first.id, { scope })) {
  console.log(`${when(event.createdAt)}  ${event.kind.padEnd(6)} ${event.previousText ?? '-'}  ->  ${event.text ?? '-'}`);
}

heading('another user sees nothing of alice');
console.log(`bob's results: ${(await memory.search('Alice', { scope: { userId: 'bob' } })).results.length}`);
await memory.close();
