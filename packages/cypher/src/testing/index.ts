/**
 * `@mem/cypher/testing`: a stand-in for neo4j-driver's `Driver` that records what a store sends
 * (Cypher text and parameters) and answers from a script, for unit tests of a dialect's generated
 * Cypher. Not for production use.
 */
export { RecordingDriver, type Answer, type SentQuery } from './recording-driver';
