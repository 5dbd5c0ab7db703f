import { describe, expect, it } from 'vitest';
import { InMemoryHistoryStore, InMemoryVectorStore, Memory, type HistoryEvent, type Scope } from '../index';
import { HashEmbedder } from '../testing';

// Regression (found by packages/hardening): calls through two overlapping scopes ({ userId } and
// { userId, agentId }) see the same memory but used to take different locks, so concurrent updates
// interleaved and the history lost its chain (two UPDATEs starting from the same text).

const user: Scope = { userId: 'carol' };
const agent: Scope = { userId: 'carol', agentId: 'planner' };

function chained(events: readonly HistoryEvent[]): boolean {
  return events.every((event, index) => index === 0 || event.previousText === events[index - 1]!.text);
}

function setup() {
  const historyStore = new InMemoryHistoryStore();
  const memory = new Memory({ embedder: new HashEmbedder(), vectorStore: new InMemoryVectorStore(), historyStore });
  return { memory, historyStore };
}

describe('concurrent calls through overlapping scopes', () => {
  it('updates of one memory apply one after another and the history stays chained', async () => {
    const { memory } = setup();
    const id = (await memory.add('Likes tea', { scope: agent, infer: false })).events[0]!.id;
    await Promise.all(
      Array.from({ length: 20 }, (_, index) => memory.update(id, `Likes tea, version ${index}`, { scope: index % 2 === 0 ? user : agent })),
    );
    const history = await memory.history(id, { scope: agent });
    expect(history).toHaveLength(21);
    expect(chained(history)).toBe(true);
    expect((await memory.get(id, { scope: agent }))?.text).toBe(history.at(-1)!.text);
  });

  it('deleteAll and updates through another scope: the memory ends deleted, with DELETE last and starting from the last text', async () => {
    const { memory } = setup();
    const ids = [];
    for (let index = 0; index < 10; index++) ids.push((await memory.add(`Fact ${index}`, { scope: agent, infer: false })).events[0]!.id);
    await Promise.all([
      ...ids.map((id, index) => memory.update(id, `Fact ${index}, revised`, { scope: user }).catch(() => undefined)),
      memory.deleteAll({ scope: agent }),
    ]);
    for (const id of ids) {
      const history = await memory.history(id, { scope: agent });
      expect(chained(history)).toBe(true);
      if (history.at(-1)!.kind === 'DELETE') expect(await memory.get(id, { scope: agent })).toBeNull();
      else expect((await memory.get(id, { scope: agent }))?.text).toBe(history.at(-1)!.text);
    }
  });
});
