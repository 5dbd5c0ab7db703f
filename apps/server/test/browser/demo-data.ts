import type { ConfiguredMemory } from '@mem/config';

/** What the browser tests and the screenshots look at: two users' memories, a changed one, and alice's graph. */
export const ALICE_MEMORIES = [
  { text: 'Is vegetarian and allergic to peanuts', metadata: { category: 'food', confidence: 0.9 }, occurredAt: '2024-05-08T10:00:00Z' },
  { text: 'Lives in Lisbon', metadata: { category: 'home' }, occurredAt: '2024-06-01T09:30:00Z' },
  { text: 'Works as a nurse at Acme Clinic', metadata: { category: 'work' }, occurredAt: '2024-09-12T14:00:00Z' },
  { text: 'Has a dog called Bolt', metadata: { category: 'pets', tags: ['dog', 'family'] }, occurredAt: '2024-11-03T18:45:00Z' },
  { text: 'Drinks green tea every morning', metadata: { category: 'food', rating: 4 }, occurredAt: '2025-01-20T07:15:00Z' },
  { text: 'Training for the Porto half marathon', metadata: { category: 'sport' }, occurredAt: '2025-04-02T08:00:00Z' },
] as const;

export const BOB_SECRET = 'Bob keeps the spare key under the blue flowerpot';

type Request = (method: string, path: string, options?: { key?: string; body?: unknown }) => Promise<{ status: number; body: any }>;

/**
 * Seeds the demo data through the REST API (alice's and bob's keys) and alice's graph straight into
 * the graph store (relations come from an LLM otherwise): where she lived, closed when she moved.
 * @returns the id of alice's "Lives in Lisbon" memory, later changed to Porto.
 */
export async function seedDemo(
  request: Request,
  keys: { alice: string; bob: string },
  configured: ConfiguredMemory,
): Promise<{ movedId: string }> {
  let movedId = '';
  for (const memory of ALICE_MEMORIES) {
    const response = await request('POST', '/v1/memories', {
      key: keys.alice,
      body: { messages: memory.text, scope: { userId: 'alice' }, metadata: memory.metadata, occurredAt: memory.occurredAt },
    });
    if (response.status !== 200) throw new Error(`seeding failed: ${JSON.stringify(response.body)}`);
    if (memory.text === 'Lives in Lisbon') movedId = response.body.memories[0].id;
  }
  const moved = await request('PATCH', `/v1/memories/${movedId}`, {
    key: keys.alice,
    body: { text: 'Moved from Lisbon to Porto in March 2025', metadata: { category: 'home' } },
  });
  if (moved.status !== 200) throw new Error(`seeding failed: ${JSON.stringify(moved.body)}`);
  await request('POST', '/v1/memories', {
    key: keys.bob,
    body: { messages: BOB_SECRET, scope: { userId: 'bob' }, metadata: { category: 'home' } },
  });
  await request('POST', '/v1/search', { key: keys.alice, body: { query: 'what does alice eat?', scope: {} } });

  const graph = configured.graphStore;
  if (graph) {
    const scope = { userId: 'alice' };
    const entities = [
      { name: 'alice', type: 'person' },
      { name: 'lisbon', type: 'city' },
      { name: 'porto', type: 'city' },
      { name: 'acme clinic', type: 'organisation' },
      { name: 'bolt', type: 'animal' },
      { name: 'porto half marathon', type: 'event' },
    ];
    const { vectors } = await configured.embedder.embed({ texts: entities.map((entity) => entity.name), purpose: 'document' });
    await graph.ensureSchema({ dimensions: vectors[0]!.length });
    await graph.upsertEntities({ scope, entities: entities.map((entity, index) => ({ ...entity, embedding: vectors[index]! })) });
    await graph.upsertRelations({
      scope,
      relations: [
        { source: 'alice', relation: 'lives_in', target: 'lisbon', validFrom: new Date('2024-06-01T09:30:00Z') },
        { source: 'alice', relation: 'works_at', target: 'acme clinic', validFrom: new Date('2024-09-12T14:00:00Z') },
        { source: 'alice', relation: 'has_pet', target: 'bolt', validFrom: new Date('2024-11-03T18:45:00Z') },
        { source: 'acme clinic', relation: 'located_in', target: 'lisbon', validFrom: new Date('2024-09-12T14:00:00Z') },
      ],
    });
    await graph.invalidateRelations({
      scope,
      relations: [{ source: 'alice', relation: 'lives_in', target: 'lisbon' }],
      validTo: new Date('2025-03-01T00:00:00Z'),
    });
    await graph.upsertRelations({
      scope,
      relations: [
        { source: 'alice', relation: 'lives_in', target: 'porto', validFrom: new Date('2025-03-01T00:00:00Z') },
        { source: 'alice', relation: 'training_for', target: 'porto half marathon', validFrom: new Date('2025-04-02T08:00:00Z') },
      ],
    });
  }
  return { movedId };
}
