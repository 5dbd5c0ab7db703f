import { describeGraphStore } from '@mem/conformance';
import { inject } from 'vitest';
import { Neo4jGraphStore } from './neo4j-graph-store';

// test/global-setup.ts started a real Neo4j 5.26 (or found NEO4J_URI); under CI=true it fails the
// run instead of providing a skip reason. Every test gets its own namespace (labels and indexes)
// in the one Community database, dropped afterwards.
const server = {
  uri: inject('neo4jUri'),
  username: inject('neo4jUsername'),
  password: inject('neo4jPassword'),
  database: inject('neo4jDatabase') || undefined,
};
const skip = inject('neo4jSkip') || undefined;

function harness(extra: { exactSearchLimit?: number }) {
  return async ({ namespace }: { namespace: string }) => {
    const subject = new Neo4jGraphStore({ ...server, namespace, maxTransactionRetryTimeMs: 5_000, ...extra });
    return {
      subject,
      dispose: async () => {
        try {
          await subject.dropSchema();
        } finally {
          await subject.close();
        }
      },
    };
  };
}

describeGraphStore('Neo4jGraphStore', harness({}), { skip, timeoutMs: 60_000 });

// The same suite with every entity search going through the vector index (over-fetch and scope filter).
describeGraphStore('Neo4jGraphStore (vector index for every search)', harness({ exactSearchLimit: 0 }), { skip, timeoutMs: 60_000 });
