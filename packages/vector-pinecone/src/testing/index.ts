/**
 * `@mem/vector-pinecone/testing`: the local Pinecone (control plane and one data plane per index)
 * this package's tests run against, validating every request against Pinecone's published OpenAPI
 * spec, for other packages' tests. Not for production use. Needs `ajv`, `ajv-formats` and `yaml`
 * (optional peer dependencies).
 */
export {
  PineconeEmulator,
  PINECONE_API_VERSION,
  type PineconeEmulatorOptions,
  type RecordedRequest,
  type InjectedFailure,
} from './pinecone-emulator';
export type { PineconeSpec, PineconePlane, SpecOperation, SpecRequest } from './pinecone-spec';
