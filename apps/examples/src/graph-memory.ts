// Graph memory: besides memories, mem keeps who and what the user talks about as a graph of
// entities and relations, each relation with the time it became true and, once contradicted, the
// time it stopped. A search returns the relations around the entities of the query.
// Runs on the embedded default: memories, history and graph share one SQLite file.
import type { GraphRelation } from '@mem/core';
import { createExampleMemory, heading, when } from './setup';

const { memory, infer, description, embedder, graphStore } = createExampleMemory({ graphMemory: true });
console.log(`graph memory: ${description}`);
const scope = { userId: 'ana' };

const conversations = [
  { at: new Date('2024-01-15T09:00:00Z'), text: 'I live in Lisbon and I work at Acme as a designer.' },
  { at: new Date('2024-02-01T18:30:00Z'), text: 'My sister Maria is a nurse in Porto.' },
  { at: new Date('2024-06-10T08:15:00Z'), text: 'Big news: I moved to Berlin last week!' },
];

heading('add three conversations');
if (infer) {
  for (const { at, text } of conversations) {
    const { events, graph, usage } = await memory.add(text, { scope, occurredAt: at });
    console.log(`${when(at)}  "${text}"  (${usage.llmCalls} LLM call, ${usage.embeddingCalls} embedding calls)`);
    for (const event of events) console.log(`  memory ${event.kind}: ${event.text}`);
    for (const entity of graph?.entities ?? []) console.log(`  entity: ${entity.name} (${entity.type})`);
    for (const relation of graph?.relations ?? [])
      console.log(`  relation: ${relation.source} -[${relation.relation}]-> ${relation.target}`);
    for (const relation of graph?.invalidated ?? [])
      console.log(`  ended:    ${relation.source} -[${relation.relation}]-> ${relation.target}`);
  }
} else {
  // Without an LLM nothing can extract entities; `add` stores the messages as given.
  console.log('No LLM: entities and relations cannot be extracted. DEMONSTRATION ONLY: the graph below is written');
  console.log('directly through the GraphStore API (what the LLM would have found), not extracted from the conversations.');
  for (const { at, text } of conversations) await memory.add(text, { scope, occurredAt: at, infer: false });
  const entities = [
    ['user', 'person'],
    ['lisbon', 'city'],
    ['acme', 'company'],
    ['designer', 'job'],
    ['maria', 'person'],
    ['nurse', 'job'],
    ['porto', 'city'],
    ['berlin', 'city'],
  ] as const;
  const { vectors } = await embedder.embed({ texts: entities.map(([name]) => name), purpose: 'document' });
  await graphStore!.ensureSchema({ dimensions: vectors[0]!.length });
  await graphStore!.upsertEntities({
    scope,
    entities: entities.map(([name, type], index) => ({ name, type, embedding: vectors[index]! })),
  });
  const relation = (source: string, name: string, target: string, validFrom: Date) => ({ source, relation: name, target, validFrom });
  const [first, second, third] = conversations.map((conversation) => conversation.at);
  await graphStore!.upsertRelations({
    scope,
    relations: [
      relation('user', 'lives_in', 'lisbon', first!),
      relation('user', 'works_at', 'acme', first!),
      relation('user', 'works_as', 'designer', first!),
      relation('maria', 'sister_of', 'user', second!),
      relation('maria', 'works_as', 'nurse', second!),
      relation('maria', 'lives_in', 'porto', second!),
    ],
  });
  // The third conversation contradicts "user lives_in lisbon": mem closes it instead of deleting it.
  await graphStore!.invalidateRelations({
    scope,
    relations: [{ source: 'user', relation: 'lives_in', target: 'lisbon' }],
    validTo: third!,
  });
  await graphStore!.upsertRelations({ scope, relations: [relation('user', 'lives_in', 'berlin', third!)] });
  console.log('wrote 8 entities and 7 relations; closed "user lives_in lisbon" at the third conversation');
}

const show = (relation: GraphRelation & { score: number }) =>
  `${relation.score.toFixed(4)}  ${relation.source} -[${relation.relation}]-> ${relation.target}   valid ${when(relation.validFrom)} .. ${relation.validTo ? when(relation.validTo) : 'now'}`;

for (const query of ['Where do I live?', 'What does my sister Maria do?']) {
  heading(`search "${query}" (with ended relations)`);
  const { results, entities, relations } = await memory.search(query, { scope, limit: 3, relationLimit: 5, includeInvalidRelations: true });
  console.log(
    `entities: ${(entities ?? []).map((entity) => `${entity.name} (${entity.type}, ${entity.score.toFixed(3)})`).join(', ') || '(none)'}`,
  );
  console.log('relations:');
  for (const relation of relations ?? []) console.log(`  ${show(relation)}`);
  console.log('memories:');
  for (const result of results) console.log(`  ${result.score.toFixed(3)}  ${result.text}`);
}

heading('only what holds now (the default)');
const { relations } = await memory.search('Where do I live?', { scope });
for (const relation of relations ?? []) console.log(`  ${show(relation)}`);
await memory.close();
