/**
 * `@mem/vector-qdrant/testing`: the in-process Qdrant REST server this package's tests run against,
 * validating every request (and its own answers) against Qdrant's published OpenAPI document, for
 * other packages' tests. Not for production use. Needs `ajv` and `ajv-formats` (optional peer
 * dependencies).
 */
export { QdrantEmulator, type QdrantEmulatorOptions, type RecordedRequest } from './qdrant-emulator';
