import type { GraphStore, VectorStore } from '../contract/interfaces';

/** Stores remember which dimensions they were checked against, so each check runs once per store. */
const vectorStoresChecked = new WeakMap<object, number>();
const graphStoresChecked = new WeakMap<object, number>();

/**
 * Checks the embedder's dimensions against the vector store before the first read or write:
 * creates the collection when missing, throws `DimensionMismatchError` when it holds other sizes.
 */
export async function ensureDimensions(vectorStore: VectorStore, dimensions: number, signal?: AbortSignal): Promise<void> {
  if (vectorStoresChecked.get(vectorStore) === dimensions) return;
  await vectorStore.ensureCollection({ dimensions, ...(signal ? { signal } : {}) });
  vectorStoresChecked.set(vectorStore, dimensions);
}

/** Calls the graph store's `ensureSchema` once per store and dimensions, like {@link ensureDimensions}. */
export async function ensureGraphSchema(graphStore: GraphStore, dimensions: number, signal?: AbortSignal): Promise<void> {
  if (graphStoresChecked.get(graphStore) === dimensions) return;
  await graphStore.ensureSchema({ dimensions, ...(signal ? { signal } : {}) });
  graphStoresChecked.set(graphStore, dimensions);
}
