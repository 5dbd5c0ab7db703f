// Vector memory: add memories for a user, search them with filters, list, update, delete, history.
import { createExampleMemory, heading } from './setup';

const { memory, infer, description } = createExampleMemory();
console.log(`vector memory: ${description}`);
const scope = { userId: 'sam', agentId: 'travel-agent' };

const conversations = [
  { text: 'I prefer window seats and I always fly economy.', topic: 'travel' },
  { text: 'My favourite cuisine is Japanese, especially ramen.', topic: 'food' },
  { text: 'I am planning a trip to Kyoto next April.', topic: 'travel' },
  { text: 'I cannot eat shellfish.', topic: 'food' },
];
heading('add');
for (const { text, topic } of conversations) {
  const { events } = await memory.add(text, { scope, infer, metadata: { topic } });
  for (const event of events) console.log(`${event.kind.padEnd(6)} [${topic}] ${event.text}`);
}

heading('search "where am I travelling?" (all topics)');
for (const r of (await memory.search('where am I travelling?', { scope, limit: 3 })).results)
  console.log(`${r.score.toFixed(3)}  ${r.text}`);

heading('search "what can I eat?" filtered to topic = food');
for (const r of (await memory.search('what can I eat?', { scope, filter: { topic: 'food' } })).results)
  console.log(`${r.score.toFixed(3)}  ${r.text}`);

heading('list, then delete the travel memories');
console.log(`${(await memory.getAll({ scope })).results.length} memories`);
console.log(`deleted ${(await memory.deleteAll({ scope, filter: { topic: 'travel' } })).deleted}`);
const left = (await memory.getAll({ scope })).results;
for (const item of left) console.log(`kept: ${item.text}`);
console.log(`history of "${left[0]!.text}": ${(await memory.history(left[0]!.id, { scope })).map((e) => e.kind).join(' -> ')}`);
await memory.close();
