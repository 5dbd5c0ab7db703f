import { describe, expect, it } from 'vitest';
import { defineVectorStoreCapabilities } from '../contract/capabilities';
import type { MemoryRecord, VectorMatch } from '../contract/types';
import { InMemoryVectorStore } from '../builtin/in-memory-vector-store';
import { hybridSearch } from './hybrid-search';

const scope = { userId: 'u1' };

function record(
  id: string,
  text: string,
  vector: number[],
  occurredAt = new Date(Date.UTC(2024, 0, Number(id.replace(/\D/g, '')) || 1)),
): MemoryRecord {
  const at = new Date(Date.UTC(2024, 0, 1));
  return { id, text, vector, hash: id, scope, metadata: {}, createdAt: at, updatedAt: at, occurredAt };
}

async function storeWith(records: readonly MemoryRecord[]): Promise<InMemoryVectorStore> {
  const store = new InMemoryVectorStore();
  await store.ensureCollection({ dimensions: 3 });
  await store.upsert({ records });
  return store;
}

const search = (
  store: InMemoryVectorStore,
  text: string,
  vector: number[],
  ranking: { keywordWeight: number; conversationWeight: number; neighborWeight?: number; dateWeight?: number; speakerWeight?: number },
  keyword = true,
) =>
  hybridSearch(store, {
    scope,
    vector,
    text,
    limit: 10,
    keyword,
    ranking: { neighborWeight: 0, dateWeight: 0, speakerWeight: 0, semanticWithoutSpeaker: true, ...ranking },
  });

describe('hybridSearch: score fusion', () => {
  // m1 is the semantic best and shares no word with the query; m2 the keyword best and semantically far.
  const records = [
    record('m1', 'enjoys oolong in the morning', [1, 0, 0]),
    record('m2', 'bought a bicycle helmet', [0, 1, 0]),
    record('m3', 'a bicycle and oolong', [0.6, 0.4, 0.2]),
  ];

  it('orders by semantic similarity alone with keywordWeight 0, by keyword relevance alone with 1', async () => {
    const store = await storeWith(records);
    const query = [1, 0, 0];
    expect((await search(store, 'bicycle', query, { keywordWeight: 0, conversationWeight: 0 })).map((match) => match.record.id)).toEqual([
      'm1',
      'm3',
      'm2',
    ]);
    // Keyword only: m2 (both words) first, although it is the semantic worst.
    const keywordFirst = await search(store, 'helmet bicycle', query, { keywordWeight: 1, conversationWeight: 0 });
    expect(keywordFirst[0]!.record.id).toBe('m2');
    expect(keywordFirst[0]!.score).toBeCloseTo(0, 6);
  });

  it('ranks a memory both lists found above one only a single list found, with balanced weights', async () => {
    const store = await storeWith(records);
    const ranked = await search(store, 'oolong bicycle', [0.7, 0.7, 0], { keywordWeight: 0.5, conversationWeight: 0 });
    expect(ranked[0]!.record.id).toBe('m3');
    expect(ranked[0]!.keywordScore).toBeGreaterThan(0);
  });

  it('keeps working on a store without keyword search: the semantic order', async () => {
    const inner = await storeWith(records);
    const semanticOnly = Object.assign(Object.create(inner) as InMemoryVectorStore, {
      capabilities: defineVectorStoreCapabilities({ filterOperators: inner.capabilities.filterOperators, keywordSearch: false }),
      keywordQuery: async (): Promise<VectorMatch[]> => {
        throw new Error('keywordQuery must not be called on a store without keyword search');
      },
    });
    const ranked = await hybridSearch(semanticOnly, {
      scope,
      vector: [1, 0, 0],
      text: 'bicycle helmet',
      limit: 3,
      keyword: true,
      ranking: {
        keywordWeight: 0.9,
        conversationWeight: 0,
        neighborWeight: 0,
        dateWeight: 0,
        speakerWeight: 0,
        semanticWithoutSpeaker: true,
      },
    });
    expect(ranked.map((match) => match.record.id)).toEqual(['m1', 'm3', 'm2']);
    expect(ranked.every((match) => match.keywordScore === undefined)).toBe(true);
  });

  it('carries the cosine similarity as score and applies threshold to it', async () => {
    const store = await storeWith(records);
    const ranked = await hybridSearch(store, {
      scope,
      vector: [1, 0, 0],
      text: 'helmet',
      limit: 3,
      keyword: true,
      threshold: 0.5,
      ranking: {
        keywordWeight: 0.9,
        conversationWeight: 0,
        neighborWeight: 0,
        dateWeight: 0,
        speakerWeight: 0,
        semanticWithoutSpeaker: true,
      },
    });
    expect(ranked.map((match) => match.record.id).sort()).toEqual(['m1', 'm3']);
    expect(ranked.find((match) => match.record.id === 'm1')!.score).toBeCloseTo(1, 6);
  });
});

describe('hybridSearch: memories of one conversation support each other', () => {
  const day = (n: number) => new Date(Date.UTC(2024, 4, n));
  // q1 answers the query; q2 (same conversation) and x2 (another) tie on their own scores.
  const records = [
    record('q1', 'adopted a puppy named rex', [1, 0, 0], day(1)),
    record('q2', 'rex chewed the sofa', [0, 1, 0], day(1)),
    record('x2', 'rex bought a new sofa', [0, 1, 0], day(2)),
  ];

  it('lifts the memory whose conversation holds the best match, only when conversationWeight > 0', async () => {
    const store = await storeWith(records);
    const without = await search(store, 'puppy', [1, 0, 0], { keywordWeight: 0.5, conversationWeight: 0 });
    const tied = without.filter((match) => match.record.id !== 'q1');
    expect(tied[0]!.fusedScore).toBeCloseTo(tied[1]!.fusedScore, 9);
    const ranked = await search(store, 'puppy', [1, 0, 0], { keywordWeight: 0.5, conversationWeight: 0.2 });
    expect(ranked.map((match) => match.record.id)).toEqual(['q1', 'q2', 'x2']);
    expect(ranked[1]!.fusedScore - ranked[2]!.fusedScore).toBeCloseTo(0.2 * ranked[0]!.fusedScore, 6);
  });
});

describe('hybridSearch: the memories stored next to a strong match come with it', () => {
  const day = new Date(Date.UTC(2024, 4, 1));
  const stored = (id: string, text: string, vector: number[], minute: number, occurredAt = day): MemoryRecord => {
    const at = new Date(Date.UTC(2024, 4, 1, 12, minute));
    return { id, text, vector, hash: id, scope, metadata: { minute }, createdAt: at, updatedAt: at, occurredAt };
  };
  // One conversation, stored in this order: the question matches the query, the answer shares no
  // word with it and is the semantic worst of the scope, so neither list finds it.
  const conversation = [
    stored('c1', 'we talked about the weather', [0, 1, 0], 1),
    stored('c2', 'did you adopt anything lately', [0.5, 0.5, 0], 2),
    stored('c3', 'yes a beagle from the shelter', [-1, 0, 0], 3),
    stored('c4', 'then we cooked dinner', [0, 1, 0], 4),
    stored('c5', 'and watched a film', [0, 1, 0], 5),
  ];
  // 60 memories of other conversations, all semantically nearer the query than the answer.
  const others = Array.from({ length: 60 }, (_, index) =>
    stored(`o${index}`, `unrelated note ${index}`, [0.3, 0, 1], 10 + index, new Date(Date.UTC(2024, 5, 1 + (index % 20)))),
  );

  it('brings in a neighbour neither list found, only when neighborWeight > 0', async () => {
    const store = await storeWith([...conversation, ...others]);
    const ids = async (neighborWeight: number) =>
      (await search(store, 'adopt', [1, 0, 0], { keywordWeight: 0.7, conversationWeight: 0, neighborWeight }))
        .slice(0, 10)
        .map((match) => match.record.id);
    expect(await ids(0)).not.toContain('c3');
    const withNeighbors = await ids(0.35);
    expect(withNeighbors[0]).toBe('c2');
    expect(withNeighbors).toContain('c3');
  });

  it('gives the support by distance in storing order: two places away at most', async () => {
    const store = await storeWith([...conversation, ...others]);
    const ranked = await search(store, 'adopt', [1, 0, 0], { keywordWeight: 1, conversationWeight: 0, neighborWeight: 0.35 });
    const fused = new Map(ranked.map((match) => [match.record.id, match.fusedScore]));
    const best = fused.get('c2')!;
    expect(fused.get('c3')).toBeCloseTo(0.35 * best, 9);
    expect(fused.get('c4')).toBeCloseTo(0.35 * best, 9);
    expect(fused.get('c1')).toBeCloseTo(0.35 * best, 9);
    expect(fused.has('c5')).toBe(false);
    expect(ranked.find((match) => match.record.id === 'c3')!.score).toBeCloseTo(-1, 6);
  });

  it("reads the conversations' keys with listKeys and gets only the neighbours it lacks: the ranking of a whole listing", async () => {
    const inner = await storeWith([...conversation, ...others]);
    const calls: string[] = [];
    const gets: string[][] = [];
    const keyed = Object.assign(Object.create(inner) as InMemoryVectorStore, {
      list: (request: Parameters<InMemoryVectorStore['list']>[0]) => {
        calls.push('list');
        return inner.list(request);
      },
      // Asked unordered, one past the read limit; answered in reverse id order, which an unordered ask allows.
      listKeys: async (request: Parameters<InMemoryVectorStore['listKeys']>[0]) => {
        calls.push('listKeys');
        expect({ limit: request.limit, unordered: request.unordered }).toEqual({ limit: 401, unordered: true });
        return (await inner.listKeys(request)).reverse();
      },
      get: (request: Parameters<InMemoryVectorStore['get']>[0]) => {
        calls.push('get');
        gets.push([...request.ids]);
        return inner.get(request);
      },
    });
    const listed = Object.assign(Object.create(inner) as InMemoryVectorStore, { listKeys: undefined });
    const ranking = { keywordWeight: 0.7, conversationWeight: 0.2, neighborWeight: 0.35 };
    const shape = (ranked: Awaited<ReturnType<typeof search>>) =>
      ranked.map((match) => [match.record.id, match.fusedScore, match.score, match.record.text]);
    const byKeys = await search(keyed, 'adopt', [1, 0, 0], ranking);
    expect(calls).toEqual(['listKeys', 'get']);
    // The neighbours of c2 (the match) that neither list found, in storing order; c2 itself and c5
    // (three places away) are not read.
    expect(gets).toEqual([['c1', 'c3', 'c4']]);
    expect(byKeys.map((match) => match.record.id)).toContain('c3');
    expect(shape(byKeys)).toEqual(shape(await search(listed, 'adopt', [1, 0, 0], ranking)));
  });

  it('gives no neighbour support when the conversations hold more than 400 memories, listed by keys or whole', async () => {
    const crowd = Array.from({ length: 400 }, (_, index) => stored(`z${String(index).padStart(3, '0')}`, `chatter ${index}`, [0, 0, 1], 6));
    const inner = await storeWith([...conversation, ...crowd]);
    const listed = Object.assign(Object.create(inner) as InMemoryVectorStore, { listKeys: undefined });
    for (const store of [inner, listed]) {
      const ranked = await search(store, 'adopt', [1, 0, 0], { keywordWeight: 1, conversationWeight: 0, neighborWeight: 0.35 });
      expect(ranked.map((match) => match.record.id)).not.toContain('c3');
    }
  });

  it('adds no neighbour that the search filter excludes', async () => {
    const store = await storeWith([...conversation, ...others]);
    const ranked = await hybridSearch(store, {
      scope,
      vector: [1, 0, 0],
      text: 'adopt',
      limit: 10,
      keyword: true,
      filter: { op: 'ne', field: 'minute', value: 3 },
      ranking: {
        keywordWeight: 1,
        conversationWeight: 0,
        neighborWeight: 0.35,
        dateWeight: 0,
        speakerWeight: 0,
        semanticWithoutSpeaker: true,
      },
    });
    expect(ranked.map((match) => match.record.id)).not.toContain('c3');
    expect(ranked.map((match) => match.record.id)).toContain('c4');
  });
});

describe('hybridSearch: a query that names a period prefers the memories of that period', () => {
  const on = (day: number, month = 5) => new Date(Date.UTC(2023, month - 1, day, 15));
  // Three talks about painting on other days, and one on 3 May that shares no word with the query
  // and is the semantic worst, behind 60 unrelated notes of other days.
  const records = [
    record('p1', 'painted a sunset by the lake', [1, 0, 0], on(1)),
    record('p2', 'painted a horse', [0.9, 0.1, 0], on(20)),
    record('p3', 'painted a portrait of my kids', [0.8, 0.2, 0], on(1, 7)),
    record('may3', 'look at this one, a sunrise over the bay', [-1, 0, 0], on(3)),
    ...Array.from({ length: 60 }, (_, index) => record(`n${index}`, `unrelated note ${index}`, [0.3, 0, 1], on(1 + (index % 20), 8))),
  ];
  const ids = async (text: string, dateWeight: number) =>
    (
      await hybridSearch(await storeWith(records), {
        scope,
        vector: [1, 0, 0],
        text,
        limit: 5,
        keyword: true,
        ranking: {
          keywordWeight: 0.5,
          conversationWeight: 0,
          neighborWeight: 0,
          dateWeight,
          speakerWeight: 0,
          semanticWithoutSpeaker: true,
        },
      })
    )
      .slice(0, 5)
      .map((match) => match.record.id);

  it('reads the memories of the named day and puts them first, only when dateWeight > 0', async () => {
    expect(await ids('What did Melanie paint on May 3, 2023?', 0)).not.toContain('may3');
    expect((await ids('What did Melanie paint on May 3, 2023?', 0.7))[0]).toBe('may3');
    // The same query without a date ranks as before.
    expect(await ids('What did Melanie paint?', 0.7)).toEqual(await ids('What did Melanie paint?', 0));
  });

  it('lifts the memories of a named month above the better matches of other months', async () => {
    const ranked = await ids('What did Melanie paint in July 2023?', 0.7);
    expect(ranked[0]).toBe('p3');
  });
});

describe('hybridSearch: a query that names a speaker prefers what that speaker said', () => {
  // Stored as infer: false stores named messages. Caroline's turn is the better match on both lists.
  const records = [
    record('c1', 'Caroline: Do you still play the clarinet and the violin?', [1, 0, 0]),
    record('m1', 'Melanie: Yeah, I play clarinet, it relaxes me', [0.7, 0.7, 0]),
    record('x1', 'Melanies: a clarinet shop', [0.9, 0.1, 0]),
    record('n1', 'Note: Melanie plays on Sundays', [0.2, 0.9, 0.1]),
  ];
  const ids = async (text: string, speakerWeight: number) =>
    (
      await hybridSearch(await storeWith(records), {
        scope,
        vector: [1, 0, 0],
        text,
        limit: 5,
        keyword: true,
        ranking: {
          keywordWeight: 0.5,
          conversationWeight: 0,
          neighborWeight: 0,
          dateWeight: 0,
          speakerWeight,
          semanticWithoutSpeaker: true,
        },
      })
    ).map((match) => match.record.id);

  it('lifts the memories whose "Name:" the query mentions as a word, only when speakerWeight > 0', async () => {
    expect((await ids('What instruments does Melanie play? clarinet violin', 0))[0]).toBe('c1');
    const ranked = await ids('What instruments does Melanie play? clarinet violin', 0.5);
    expect(ranked[0]).toBe('m1');
    // "Melanies" is another word; "Note:" is not a name the query mentions.
    expect(ranked.indexOf('x1')).toBeGreaterThan(ranked.indexOf('c1'));
    expect((await ids("What is Melanie's favourite instrument?", 0.5))[0]).toBe('m1');
    expect((await ids("What is melanie's favourite instrument?", 0.5))[0]).toBe('m1');
  });
});

describe('hybridSearch: a query that names a speaker searches the semantic side without the name', () => {
  // Dimensions: the name, the topic, the rest. m1 is Melanie's turn that is mostly her name; m2 is about the topic.
  const records = [
    record('m1', 'Melanie: Melanie here, Melanie again', [1, 0.1, 0]),
    record('m2', 'Melanie: my violin', [0.3, 1, 0]),
    record('c1', 'Caroline: hi there', [0, 0, 1]),
  ];
  const run = async (text: string, semanticWithoutSpeaker: boolean, speakerWeight = 0.5) => {
    const restated: string[] = [];
    const matches = await hybridSearch(await storeWith(records), {
      scope,
      // The query's own vector leans to the name; without the name it is the topic alone.
      vector: [1, 0.5, 0],
      text,
      limit: 5,
      keyword: false,
      ranking: { keywordWeight: 0, conversationWeight: 0, neighborWeight: 0, dateWeight: 0, speakerWeight, semanticWithoutSpeaker },
      embedQuery: async (restatedText) => {
        restated.push(restatedText);
        return [0, 1, 0];
      },
    });
    return { ids: matches.map((match) => match.record.id), matches, restated };
  };

  it('embeds the query again without the name and ranks by the topic: the turn about it comes first', async () => {
    const on = await run('What instrument does Melanie play?', true);
    expect(on.restated).toEqual(['What instrument does play?']);
    expect(on.ids[0]).toBe('m2');
    // score is the cosine to the restated vector.
    expect(on.matches[0]!.score).toBeCloseTo(1 / Math.hypot(0.3, 1), 6);
    const off = await run('What instrument does Melanie play?', false);
    expect(off.restated).toEqual([]);
    expect(off.ids[0]).toBe('m1');
  });

  it("drops a possessive 's with the name, in any case", async () => {
    expect((await run("What is MELANIE's violin like?", true)).restated).toEqual(['What is violin like?']);
    expect((await run('What is Melanie\u2019s violin like?', true)).restated).toEqual(['What is violin like?']);
  });

  it('keeps the query vector when the query names no speaker, nothing but a name, or speakerWeight is 0', async () => {
    for (const [text, speakerWeight] of [
      ['What instrument is played?', 0.5],
      ['Melanies play what?', 0.5],
      ["Melanie's?", 0.5],
      ['What instrument does Melanie play?', 0],
    ] as const) {
      const { restated } = await run(text, true, speakerWeight);
      expect(restated, text).toEqual([]);
    }
  });
});
