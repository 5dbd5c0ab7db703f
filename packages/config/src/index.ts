export {
  loadConfig,
  readConfigFile,
  DEFAULT_DB_PATH,
  DEFAULT_PORT,
  type LoadConfigOptions,
  type MemConfig,
  type MemConfigInput,
  type LlmConfig,
  type EmbedderConfig,
  type VectorStoreConfig,
  type HistoryStoreConfig,
  type GraphStoreConfig,
  type RerankerConfig,
  type ServerConfig,
  type RateLimitConfig,
  type ImagesConfig,
} from './load-config';
export { createMemoryFromConfig, type ConfiguredMemory, type MemoryOverrides, type OpenOptions } from './create-memory-from-config';
