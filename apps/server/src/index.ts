export { createServer, type CreateServerOptions, type MemServer } from './app';
export { startServer, handleSignals, DEFAULT_KEYS_FILE, type StartServerOptions, type StartedServer } from './start';
export {
  ApiKeyStore,
  authorizeScope,
  generateKey,
  hashKey,
  readKeysFile,
  writeKeysFile,
  MIN_KEY_LENGTH,
  type ApiKey,
  type Allowed,
  type PlainKeyDefinition,
} from './keys';
export { createLogger, type Logger, type LogSink, type LogFields } from './logger';
export { ERROR_CODES, type ErrorCode } from './schemas';
