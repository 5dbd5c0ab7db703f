import { splitFilter, type Filter } from '../contract/filter';
import type { VectorStore } from '../contract/interfaces';
import type { MemoryKey, MemoryRecord, Scope, VectorMatch } from '../contract/types';
import { cosineSimilarity } from '../kit/vector-math';
import { filteredKeywordQuery, filteredQuery, scanScope } from '../store/filtered-reads';
import { periodFit, periodRange, queryPeriod } from './query-dates';
import type { RankingSettings } from './ranking';

/** A search candidate with the scores it earned. */
export interface RankedMatch {
  readonly record: MemoryRecord;
  /** Cosine similarity to the query. */
  readonly score: number;
  /** Keyword relevance (BM25 from the store), when the keyword search found the record. */
  readonly keywordScore?: number;
  /** The score used for ordering: fused keyword and semantic relevance, plus the conversation, neighbour, date and speaker shares. */
  readonly fusedScore: number;
}

/** Fewest candidates asked of each list, however small the limit: the fusion needs a pool to compare. */
const MIN_CANDIDATES = 40;
/** The best candidates (by their own score) whose conversations are read for neighbours. */
const NEIGHBOR_SEEDS = 5;
/** How many memories away, in the order they were stored, a neighbour may be on either side. */
const NEIGHBOR_DISTANCE = 2;
/** Most memories read for neighbours in one search; past it the search goes on without them. */
const NEIGHBOR_READ_LIMIT = 400;
/** "Name: text", as `add` with `infer: false` stores a message with a name: the name, up to 64 characters. */
const SPEAKER = /^([^:\n]{1,64}):\s/;
/** Candidates read from the period a query names (each list), beside the main lists. */
const PERIOD_CANDIDATES = 20;

/**
 * Semantic search fused with keyword search where the store has it, by score:
 *
 * 1. each list is scaled to 0–1 over its own candidates (min–max), so neither the cosine range of
 *    an embedder nor BM25's unbounded scale decides the mix;
 * 2. `own = (1 − keywordWeight) · semantic + keywordWeight · keyword` (0 for the list that missed
 *    it); without keyword search (store or call), `own` is the semantic score alone;
 * 3. neighbours: the conversations (same `occurredAt`) of the best {@link NEIGHBOR_SEEDS} candidates
 *    are read, and every memory stored up to {@link NEIGHBOR_DISTANCE} places before or after a
 *    candidate joins the pool (own 0 when neither list found it);
 * 4. `fused = own + conversationWeight · (best own of another candidate with the same occurredAt)
 *    + neighborWeight · (best own of a neighbour) + dateWeight · (fit of occurredAt to the period the
 *    query names, see {@link queryPeriod}) + speakerWeight · (1 when the memory is "Name: …" and the
 *    query mentions Name)`: memories learned in the same conversation support each other, the next
 *    and previous ones most; a query naming a day, month or year prefers what happened then, and one
 *    naming a person what that person said.
 *
 * A query that names a period also reads the best {@link PERIOD_CANDIDATES} memories of that period
 * from each list (the store filters on `occurredAt`), so they are candidates even when the main lists
 * miss them.
 *
 * A query that names the speaker of a candidate stored as "Name: text" (with `speakerWeight` above 0,
 * `semanticWithoutSpeaker` on and `embedQuery` given) is embedded again without the name, and the
 * semantic lists are read again with that vector, which replaces the query's own from then on: the
 * speaker weight prefers what the person said, and the topic decides the semantic side.
 *
 * Every result carries its cosine similarity to the query vector as `score` (computed from the stored
 * vector when only the keyword search found it); `threshold` applies to it.
 */
export async function hybridSearch(
  store: VectorStore,
  request: {
    scope: Scope;
    vector: readonly number[];
    text: string;
    limit: number;
    filter?: Filter;
    threshold?: number;
    keyword: boolean;
    ranking: RankingSettings;
    /** Embeds a restated query (the query without a speaker's name); without it the query vector is kept. */
    embedQuery?: (text: string) => Promise<readonly number[]>;
    signal?: AbortSignal;
  },
): Promise<RankedMatch[]> {
  const common = {
    scope: request.scope,
    topK: Math.max(request.limit * 2, MIN_CANDIDATES),
    ...(request.filter ? { filter: request.filter } : {}),
    ...(request.signal ? { signal: request.signal } : {}),
  };
  const useKeyword = request.keyword && store.capabilities.keywordSearch;
  const period = request.ranking.dateWeight > 0 ? queryPeriod(request.text) : undefined;
  const range = period ? periodRange(period) : undefined;
  // A query that names a period also reads the best memories of that period, which the lists above may miss.
  const inPeriod: Filter | undefined = range
    ? {
        op: 'and',
        filters: [
          { op: 'gte', field: 'occurredAt', value: range.from },
          { op: 'lt', field: 'occurredAt', value: range.to },
          ...(request.filter ? [request.filter] : []),
        ],
      }
    : undefined;
  const periodRequest = inPeriod ? { ...common, topK: PERIOD_CANDIDATES, filter: inPeriod } : undefined;
  const semanticLists = (vector: readonly number[]) =>
    Promise.all([
      filteredQuery(store, { ...common, vector }),
      periodRequest ? filteredQuery(store, { ...periodRequest, vector }) : Promise.resolve([]),
    ]);
  let vector = request.vector;
  let [[semantic, periodSemantic], keyword, periodKeyword] = await Promise.all([
    semanticLists(vector),
    useKeyword ? filteredKeywordQuery(store, { ...common, text: request.text }) : Promise.resolve([]),
    periodRequest && useKeyword ? filteredKeywordQuery(store, { ...periodRequest, text: request.text }) : Promise.resolve([]),
  ]);
  const restated =
    request.embedQuery && request.ranking.semanticWithoutSpeaker && request.ranking.speakerWeight > 0
      ? withoutSpeakers(
          request.text,
          [...semantic, ...keyword, ...periodSemantic, ...periodKeyword].map((match) => match.record.text),
        )
      : undefined;
  if (restated !== undefined) {
    vector = await request.embedQuery!(restated);
    [semantic, periodSemantic] = await semanticLists(vector);
  }
  const candidates = new Map<string, { record: MemoryRecord; score: number; keywordScore?: number }>();
  for (const match of [...semantic, ...periodSemantic]) {
    if (!candidates.has(match.record.id)) candidates.set(match.record.id, { record: match.record, score: match.score });
  }
  for (const match of [...keyword, ...periodKeyword]) {
    const seen = candidates.get(match.record.id);
    if (seen) seen.keywordScore = match.score;
    else
      candidates.set(match.record.id, {
        record: match.record,
        score: cosineSimilarity(vector, match.record.vector),
        keywordScore: match.score,
      });
  }
  // Scaled over each main list; a memory only the period's lists found scales below 0, so it counts 0.
  const keywordShare = scaler(keyword);
  const keywordWeight = useKeyword ? request.ranking.keywordWeight : 0;
  const semanticShare = scaler(semantic);
  const own = new Map<string, number>();
  for (const candidate of candidates.values()) {
    own.set(
      candidate.record.id,
      (1 - keywordWeight) * semanticShare(candidate.score) +
        (candidate.keywordScore === undefined ? 0 : keywordWeight * keywordShare(candidate.keywordScore)),
    );
  }
  const neighborSupport =
    request.ranking.neighborWeight > 0 && own.size > 0
      ? await readNeighbors(store, { ...request, vector }, candidates, own)
      : new Map<string, number>();
  const mentionsSpeaker = speakerMatcher(request.text, request.ranking.speakerWeight > 0);
  const conversationBest = bestPerConversation([...candidates.values()].map(({ record }) => ({ record, own: own.get(record.id)! })));
  return [...candidates.values()]
    .map((candidate) => {
      const mine = own.get(candidate.record.id)!;
      const others = conversationBest.get(candidate.record.occurredAt.getTime());
      // The best other member of the conversation: the runner-up when this one is the best.
      const support = others === undefined ? 0 : others.bestId === candidate.record.id ? others.second : others.best;
      const neighbor = neighborSupport.get(candidate.record.id) ?? 0;
      const fit = period ? periodFit(period, candidate.record.occurredAt) : 0;
      const spoke = mentionsSpeaker(candidate.record.text) ? 1 : 0;
      return {
        ...candidate,
        fusedScore:
          mine +
          request.ranking.conversationWeight * support +
          request.ranking.neighborWeight * neighbor +
          request.ranking.dateWeight * fit +
          request.ranking.speakerWeight * spoke,
      };
    })
    .filter((match) => request.threshold === undefined || match.score >= request.threshold)
    .sort((a, b) => b.fusedScore - a.fusedScore || b.score - a.score);
}

/**
 * Reads the conversations of the best {@link NEIGHBOR_SEEDS} candidates (the scope's memories with
 * their `occurredAt`, through the search's filter), adds each memory within {@link NEIGHBOR_DISTANCE}
 * places of a candidate to `candidates` (own score 0), and returns, per memory of those
 * conversations, the best own score among its neighbours. Order within a conversation is the order
 * of storing (`createdAt`, then id). When the conversations hold more than
 * {@link NEIGHBOR_READ_LIMIT} memories, nothing is added and no support is given.
 *
 * A store with `listKeys` (and the whole filter native to it) gives the conversations' ids and dates
 * only, and the few neighbours not yet among the candidates are read with one `get`; otherwise the
 * conversations are listed whole.
 */
async function readNeighbors(
  store: VectorStore,
  request: { scope: Scope; vector: readonly number[]; filter?: Filter; signal?: AbortSignal },
  candidates: Map<string, { record: MemoryRecord; score: number; keywordScore?: number }>,
  own: Map<string, number>,
): Promise<Map<string, number>> {
  const seeds = [...own.entries()]
    .sort((a, b) => b[1] - a[1])
    .slice(0, NEIGHBOR_SEEDS)
    .map(([id]) => candidates.get(id)!.record);
  const times = [...new Set(seeds.map((record) => record.occurredAt.getTime()))];
  const conversation: Filter = { op: 'in', field: 'occurredAt', values: times };
  const filter: Filter = request.filter ? { op: 'and', filters: [request.filter, conversation] } : conversation;
  const members = await readConversations(store, { ...request, filter });
  if (members === undefined) return new Map();
  const conversations = new Map<number, MemoryKey[]>();
  for (const member of members) {
    const key = member.occurredAt.getTime();
    const group = conversations.get(key);
    if (group) group.push(member);
    else conversations.set(key, [member]);
  }
  const support = new Map<string, number>();
  const joining: MemoryKey[] = [];
  for (const group of conversations.values()) {
    group.sort((a, b) => a.createdAt.getTime() - b.createdAt.getTime() || (a.id < b.id ? -1 : a.id > b.id ? 1 : 0));
    group.forEach((member, index) => {
      let best = 0;
      for (let step = -NEIGHBOR_DISTANCE; step <= NEIGHBOR_DISTANCE; step++) {
        const neighbor = step === 0 ? undefined : group[index + step];
        if (neighbor) best = Math.max(best, own.get(neighbor.id) ?? 0);
      }
      if (best === 0) return;
      support.set(member.id, best);
      if (!candidates.has(member.id)) joining.push(member);
    });
  }
  const records = await recordsOf(store, request, joining);
  for (const member of joining) {
    const record = records.get(member.id);
    if (!record) continue;
    candidates.set(record.id, { record, score: cosineSimilarity(request.vector, record.vector) });
    own.set(record.id, 0);
  }
  return support;
}

/**
 * The memories `filter` picks in the scope (the conversations of the seeds), as keys through the
 * store's `listKeys` when it has one and evaluates the whole filter, else as whole records through
 * `list`; `undefined` when there are more than {@link NEIGHBOR_READ_LIMIT}.
 */
async function readConversations(
  store: VectorStore,
  request: { scope: Scope; filter: Filter; signal?: AbortSignal },
): Promise<readonly (MemoryKey | MemoryRecord)[] | undefined> {
  const { residual } = splitFilter(request.filter, store.capabilities.filterOperators);
  if (store.listKeys && !residual) {
    const keys = await store.listKeys({
      scope: request.scope,
      filter: request.filter,
      limit: NEIGHBOR_READ_LIMIT + 1,
      // Past the limit the keys go unused: any one more than it tells so, without a sort of every match.
      unordered: true,
      ...(request.signal ? { signal: request.signal } : {}),
    });
    return keys.length > NEIGHBOR_READ_LIMIT ? undefined : keys;
  }
  const records: MemoryRecord[] = [];
  for await (const record of scanScope(store, request)) {
    if (records.length === NEIGHBOR_READ_LIMIT) return undefined;
    records.push(record);
  }
  return records;
}

/** The records of `members` by id: the members themselves when they are records, else one `get`. */
async function recordsOf(
  store: VectorStore,
  request: { scope: Scope; signal?: AbortSignal },
  members: readonly (MemoryKey | MemoryRecord)[],
): Promise<Map<string, MemoryRecord>> {
  const records = new Map<string, MemoryRecord>();
  const missing: string[] = [];
  for (const member of members) {
    if ('vector' in member) records.set(member.id, member);
    else missing.push(member.id);
  }
  if (missing.length === 0) return records;
  for (const record of await store.get({ scope: request.scope, ids: missing, ...(request.signal ? { signal: request.signal } : {}) })) {
    records.set(record.id, record);
  }
  return records;
}

/**
 * The query without the names it mentions of the speakers of `texts` ("Name: …"), with a possessive
 * "'s" after a name; `undefined` when it mentions none, or nothing but names.
 */
function withoutSpeakers(query: string, texts: readonly string[]): string | undefined {
  const names = new Set<string>();
  for (const text of texts) {
    const name = SPEAKER.exec(text)?.[1]?.trim();
    if (name && /\p{L}/u.test(name)) names.add(name.toLowerCase());
  }
  let rest = query;
  for (const name of names) rest = rest.replace(nameWord(name, `(?:['\u2019]s?)?`, 'giu'), ' ');
  if (rest === query) return undefined;
  rest = rest.replace(/\s+/g, ' ').trim();
  return /[\p{L}\p{N}]/u.test(rest) ? rest : undefined;
}

/** Compiled {@link nameWord} patterns by flags, suffix and name; cleared when full. */
const NAME_PATTERNS = new Map<string, RegExp>();
/** Most patterns {@link NAME_PATTERNS} keeps: a scope's speakers, and the "Name:" heads of other texts. */
const MAX_NAME_PATTERNS = 4_096;

/**
 * `name` as a whole word (any case), followed by `suffix` (a regular expression source). Compiled
 * once per name: a search meets the same few dozen "Name:" heads over and over, and compiling a
 * Unicode pattern costs more than running it. A shared global pattern is safe with `replace`, which
 * starts at 0 and leaves `lastIndex` at 0.
 */
function nameWord(name: string, suffix: string, flags: string): RegExp {
  const key = `${flags}\u0000${suffix}\u0000${name}`;
  let pattern = NAME_PATTERNS.get(key);
  if (pattern === undefined) {
    const escaped = name.replace(/[.*+?^${}()|[\]\\]/g, '\\$&');
    pattern = new RegExp(`(?<![\\p{L}\\p{N}])${escaped}${suffix}(?![\\p{L}\\p{N}])`, flags);
    if (NAME_PATTERNS.size >= MAX_NAME_PATTERNS) NAME_PATTERNS.clear();
    NAME_PATTERNS.set(key, pattern);
  }
  return pattern;
}

/**
 * Whether a memory's text is "Name: …" with a Name the query mentions as a whole word (any case), e.g.
 * "Melanie: I play clarinet" for "What instruments does Melanie play?". Always false when not `enabled`.
 */
function speakerMatcher(query: string, enabled: boolean): (text: string) => boolean {
  const seen = new Map<string, boolean>();
  return (text) => {
    const name = enabled ? SPEAKER.exec(text)?.[1]?.trim() : undefined;
    if (!name || !/\p{L}/u.test(name)) return false;
    let mentioned = seen.get(name);
    if (mentioned === undefined) {
      mentioned = nameWord(name, '', 'iu').test(query);
      seen.set(name, mentioned);
    }
    return mentioned;
  };
}

/**
 * Scales a score to 0–1 over a list's scores (min–max), clamped: 1 for every score when they are all
 * equal, 0 for a score the list does not reach.
 */
function scaler(matches: readonly VectorMatch[]): (score: number) => number {
  if (matches.length === 0) return () => 0;
  const scores = matches.map((match) => match.score);
  const high = Math.max(...scores);
  const low = Math.min(...scores);
  return (score) => (high > low ? Math.min(1, Math.max(0, (score - low) / (high - low))) : score >= high ? 1 : 0);
}

/** Per conversation (`occurredAt` in ms): its best and second-best own score, and the best one's id. */
function bestPerConversation(
  members: readonly { record: MemoryRecord; own: number }[],
): Map<number, { best: number; bestId: string; second: number }> {
  const groups = new Map<number, { best: number; bestId: string; second: number }>();
  for (const { record, own } of members) {
    const key = record.occurredAt.getTime();
    const group = groups.get(key);
    if (!group) groups.set(key, { best: own, bestId: record.id, second: 0 });
    else if (own > group.best) groups.set(key, { best: own, bestId: record.id, second: group.best });
    else group.second = Math.max(group.second, own);
  }
  return groups;
}
