// Child process of sqlite-vector-store.crash.test.ts: writes batches of records until it is killed.
// argv: <database path> <batch size> <dimensions>. Reports each committed batch to the parent over IPC.
import { SqliteVectorStore } from '../src/sqlite-vector-store';

const [path, batchSizeArgument, dimensionsArgument] = process.argv.slice(2);
const batchSize = Number(batchSizeArgument);
const dimensions = Number(dimensionsArgument);
const store = new SqliteVectorStore({ path });
await store.ensureCollection({ dimensions });

const makeBatch = (batch: number) =>
  Array.from({ length: batchSize }, (_, index) => ({
    id: `batch-${String(batch).padStart(6, '0')}-${String(index).padStart(4, '0')}`,
    vector: Array.from({ length: dimensions }, (_, position) => Math.sin(batch * 31 + index * 7 + position)),
    text: `record ${index} of batch ${batch}, written before the kill`,
    hash: 'hash',
    scope: { userId: `user-${index % 3}` },
    metadata: { batch, index },
    createdAt: new Date(),
    updatedAt: new Date(),
    occurredAt: new Date(),
  }));

let next = makeBatch(0);
for (let batch = 0; ; batch++) {
  await store.upsert({ records: next });
  // Build the next batch before reporting, so the kill that follows the report lands in upsert.
  next = makeBatch(batch + 1);
  process.send?.({ committed: batch + 1 });
  await new Promise((resolve) => setImmediate(resolve));
}
