import { describeGraphStore, liveEnv } from '@mem/conformance';
import { MemgraphGraphStore } from './memgraph-graph-store';

// The whole conformance suite against a real Memgraph 3 (e.g. `docker run -p 7687:7687 memgraph/memgraph`)
// when MEMGRAPH_URI is set (MEMGRAPH_USERNAME / MEMGRAPH_PASSWORD too if auth is on); skipped, with
// that reason, otherwise. No Memgraph can run on the project's CI machines.
const memgraph = liveEnv('MEMGRAPH_URI');

function harness(extra: { exactSearchLimit?: number }) {
  return async ({ namespace }: { namespace: string }) => {
    const subject = new MemgraphGraphStore({ uri: memgraph.values.MEMGRAPH_URI, namespace, maxTransactionRetryTimeMs: 5_000, ...extra });
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

describeGraphStore('MemgraphGraphStore (live)', harness({}), { skip: memgraph.skip, timeoutMs: 60_000 });
describeGraphStore('MemgraphGraphStore (live, vector index for every search)', harness({ exactSearchLimit: 0 }), {
  skip: memgraph.skip,
  timeoutMs: 60_000,
});
