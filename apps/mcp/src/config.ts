import type { Environment } from '@mem/core/adapter';
import type { Memory } from '@mem/core';
import { createMemoryFromConfig, loadConfig } from '@mem/config';

/** A {@link Memory} built from the shared mem configuration, with what was chosen. */
export interface ConfiguredMemory {
  readonly memory: Memory;
  /** Whether an LLM is configured, so `add` can extract facts: the default of `add_memory`'s `infer`. */
  readonly infer: boolean;
  /** One line naming the providers and the database file; never a secret. */
  readonly description: string;
}

/**
 * Builds the {@link Memory} the MCP server serves, with the configuration the REST server and the
 * `mem` CLI use (`@mem/config`): `MEM_DB` (default `./mem.db`, the embedded SQLite stores),
 * `MEM_CONFIG` (a JSON or YAML file choosing LLM, embedder, vector, history and graph stores),
 * `MEM_LLM`, `MEM_EMBEDDER`, `MEM_LLM_MODEL`, `MEM_EMBEDDING_MODEL`, `MEM_VECTOR_STORE`,
 * `MEM_GRAPH_STORE`, `MEM_STRATEGY`. Providers are picked from their own variables: Claude for
 * extraction with `ANTHROPIC_API_KEY`; OpenAI (or an OpenAI-compatible server) with
 * `OPENAI_API_KEY` / `OPENAI_BASE_URL`; with none of them, no LLM (text is stored as given) and
 * core's offline lexical embedder.
 *
 * @param environment - the variables to read (`process.env` in the CLI; tests pass their own)
 * @param overrides.db - the SQLite file, winning over `MEM_DB` and the config file (`--db`)
 * @param overrides.file - the config file, instead of `MEM_CONFIG` (`--config`)
 * @throws {InvalidInputError | MissingSettingError} naming the setting, for an unusable one.
 * @example
 * const { memory, infer } = await createMemoryFromEnvironment(process.env);
 */
export async function createMemoryFromEnvironment(
  environment: Environment,
  overrides: { readonly db?: string; readonly file?: string } = {},
): Promise<ConfiguredMemory> {
  const config = loadConfig({
    env: environment,
    ...(overrides.file === undefined ? {} : { file: overrides.file }),
    ...(overrides.db === undefined ? {} : { overrides: { db: overrides.db } }),
  });
  const configured = await createMemoryFromConfig(config);
  return { memory: configured.memory, infer: configured.llm !== undefined, description: configured.description };
}
