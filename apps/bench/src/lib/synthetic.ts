import { hashText } from '@mem/core/adapter';
import type { MemoryRecord } from '@mem/core';
import { seededRandom } from './stats';

/** Metadata categories of the synthetic memories; a filter on one keeps about 1/12 of a scope. */
export const CATEGORIES = [
  'food',
  'travel',
  'work',
  'family',
  'health',
  'hobby',
  'pets',
  'music',
  'sport',
  'finance',
  'home',
  'education',
] as const;
const SOURCES = ['chat', 'email', 'calendar', 'notes'] as const;
const SUBJECTS = ['Alice', 'Bob', 'the user', 'Priya', 'Marco', 'Chen', 'Fatima', 'Jonas'];
const VERBS = ['likes', 'visited', 'plans to try', 'stopped', 'bought', 'talked about', 'is learning', 'recommended'];
const OBJECTS = [
  'green tea',
  'Lisbon',
  'a new job',
  'the piano',
  'a road bike',
  'vegan recipes',
  'a golden retriever',
  'jazz records',
  'a pottery class',
  'index funds',
  'the garden',
  'a history course',
];

/**
 * How synthetic vectors are drawn. `uniform`: uniformly at random on the unit sphere, every pair
 * nearly orthogonal (HNSW's worst case, and nothing like real embeddings). `clustered`: the
 * {@link ClusteredVectors} recipe, which has what real sentence embeddings have and uniform vectors
 * lack: topics, and a low intrinsic dimension.
 */
export type VectorDistribution = 'uniform' | 'clustered';

/** Topics of the clustered distribution. */
const CLUSTER_TOPICS = 64;
/** Dimension of the latent space the clustered vectors come from. */
const CLUSTER_LATENT = 32;
/** Spread of a memory around its topic centre, in latent units (centres are N(0, 1) apart). */
const CLUSTER_SPREAD = 0.6;
/** Norm of the isotropic noise added in the full space, relative to the unit signal. */
const CLUSTER_NOISE = 0.1;

/**
 * Clustered unit vectors, a stand-in for real sentence embeddings (which have topics and a low
 * intrinsic dimension). The recipe, fixed by one seed per dimension so data and queries share it:
 * 64 topic centres μₜ ~ N(0, I₃₂) in a 32-dimensional latent space and a random projection
 * W ~ N(0, 1)^(d×32); a vector picks a topic t uniformly, draws z = μₜ + 0.6·N(0, I₃₂), and is
 * normalise(normalise(W·z) + ε) with ε ~ N(0, (0.1²/d)·I_d) (isotropic noise of norm about 0.1).
 */
export class ClusteredVectors {
  private static readonly models = new Map<number, { centres: Float64Array[]; projection: Float64Array[] }>();
  private readonly model: { centres: Float64Array[]; projection: Float64Array[] };

  constructor(
    readonly dimensions: number,
    private readonly random: () => number,
  ) {
    let model = ClusteredVectors.models.get(dimensions);
    if (!model) {
      const gaussian = gaussianSource(seededRandom(90_210 + dimensions));
      const centres = Array.from({ length: CLUSTER_TOPICS }, () => Float64Array.from({ length: CLUSTER_LATENT }, gaussian));
      const projection = Array.from({ length: dimensions }, () => Float64Array.from({ length: CLUSTER_LATENT }, gaussian));
      model = { centres, projection };
      ClusteredVectors.models.set(dimensions, model);
    }
    this.model = model;
  }

  vector(): number[] {
    const gaussian = gaussianSource(this.random);
    const centre = this.model.centres[Math.floor(this.random() * CLUSTER_TOPICS)]!;
    const z = Float64Array.from(centre, (value) => value + CLUSTER_SPREAD * gaussian());
    const vector = this.model.projection.map((row) => row.reduce((total, weight, k) => total + weight * z[k]!, 0));
    const norm = Math.hypot(...vector);
    const noise = CLUSTER_NOISE / Math.sqrt(this.dimensions);
    return normalize(vector.map((value) => value / norm + noise * gaussian()));
  }
}

/** Standard normal samples from a uniform source (Box–Muller). */
function gaussianSource(random: () => number): () => number {
  return () => Math.sqrt(-2 * Math.log(1 - random())) * Math.cos(2 * Math.PI * random());
}

function normalize(vector: number[]): number[] {
  const norm = Math.hypot(...vector);
  return vector.map((value) => value / norm);
}

/** The scope of the `index`-th synthetic memory: records are spread round-robin over `scopes` users. */
export const scopeOf = (index: number, scopes: number): { userId: string } => ({ userId: `user-${index % scopes}` });

/**
 * Deterministic synthetic memories: unit vectors of `dimensions` (seeded, so every run and every
 * system gets the same data), a text, and realistic metadata (category, source, importance, tags,
 * session) over `scopes` users. The text is a one-line sentence, or, when `texts` is given (e.g.
 * real conversation turns), the `index`-th of them (cycling) with the note number appended, so
 * texts have real lengths and words and every record still has its own hash.
 */
export class SyntheticMemories {
  private readonly random: () => number;
  private readonly epoch = Date.UTC(2023, 0, 1);
  private readonly clustered: ClusteredVectors | undefined;

  constructor(
    readonly dimensions: number,
    readonly scopes: number,
    seed = 7,
    private readonly texts?: readonly string[],
    readonly distribution: VectorDistribution = 'uniform',
  ) {
    this.random = seededRandom(seed);
    this.clustered = distribution === 'clustered' ? new ClusteredVectors(dimensions, this.random) : undefined;
  }

  vector(): number[] {
    if (this.clustered) return this.clustered.vector();
    const vector = new Array<number>(this.dimensions);
    let norm = 0;
    for (let i = 0; i < this.dimensions; i++) {
      const value = this.random() * 2 - 1;
      vector[i] = value;
      norm += value * value;
    }
    norm = Math.sqrt(norm);
    for (let i = 0; i < this.dimensions; i++) vector[i]! /= norm;
    return vector;
  }

  pick<T>(list: readonly T[]): T {
    return list[Math.floor(this.random() * list.length)]!;
  }

  record(index: number): MemoryRecord {
    const sentence = `${this.pick(SUBJECTS)} ${this.pick(VERBS)} ${this.pick(OBJECTS)}`;
    const text = `${this.texts && this.texts.length > 0 ? this.texts[index % this.texts.length] : sentence} (note ${index})`;
    const at = new Date(this.epoch + Math.floor(this.random() * 400) * 86_400_000);
    // Ids sort in insertion order, like the UUID v7 ids mem creates.
    const id = `0190a000-0000-7000-8000-${index.toString(16).padStart(12, '0')}`;
    return {
      id,
      vector: this.vector(),
      text,
      hash: hashText(text),
      scope: scopeOf(index, this.scopes),
      metadata: {
        category: this.pick(CATEGORIES),
        source: this.pick(SOURCES),
        importance: 1 + Math.floor(this.random() * 5),
        tags: [this.pick(CATEGORIES), this.pick(SOURCES)],
        session: `s-${Math.floor(index / 500)}`,
      },
      createdAt: at,
      updatedAt: at,
      occurredAt: at,
    };
  }

  batch(start: number, count: number): MemoryRecord[] {
    return Array.from({ length: count }, (_, offset) => this.record(start + offset));
  }
}

/**
 * The exact-search lower bound: one pass of cosine similarity over `vectors` (unit Float32Arrays,
 * so a dot product) in a tight loop, keeping the best. No store can answer an exact query faster
 * than it reads every vector of the scope once.
 */
export function scanOnce(vectors: readonly Float32Array[], query: Float32Array): number {
  let best = -2;
  for (const vector of vectors) {
    let dot = 0;
    for (let k = 0; k < vector.length; k++) dot += vector[k]! * query[k]!;
    if (dot > best) best = dot;
  }
  return best;
}
