import { mkdtemp, rm } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { writeTinySentenceModel } from './tiny-sentence-model';

/** Model id of the generated test model, as a folder under the temporary `localModelPath`. */
export const TINY_MODEL_ID = 'mem-test/tiny-sentence-model';

/** A temporary `localModelPath` holding the generated tiny model; `remove()` deletes it. */
export interface TinyModelFolder {
  readonly localModelPath: string;
  remove(): Promise<void>;
}

/** Creates a fresh temporary folder with the tiny model at `<localModelPath>/<TINY_MODEL_ID>/`. */
export async function createTinyModelFolder(
  options: { readonly hiddenSize?: number; readonly maxLength?: number } = {},
): Promise<TinyModelFolder> {
  const localModelPath = await mkdtemp(path.join(os.tmpdir(), 'mem-embedder-transformers-'));
  await writeTinySentenceModel({ localModelPath, modelId: TINY_MODEL_ID, ...options });
  return { localModelPath, remove: () => rm(localModelPath, { recursive: true, force: true }) };
}
