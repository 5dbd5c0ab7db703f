// The worker thread of an approximate index build (see AnnBuild in sqlite-vector-ann-build.ts): it
// holds the index being built and does the CPU work (usearch inserts on all cores, the recall
// probes' exact neighbours, the save), while the store's thread reads the rows and answers searches.
import { statSync } from 'node:fs';
import { parentPort, workerData } from 'node:worker_threads';
import { AnnScope, EARLY_RECALL_ROWS, fileSha1 } from './sqlite-vector-ann';
import type { AnnBuildReply, AnnBuildRequest, AnnWorkerData } from './sqlite-vector-ann-build';

const data = workerData as AnnWorkerData;
const port = parentPort!;
const scope = new AnnScope(data.column, data.value, data.dimensions, data.expansion);
let scanned = 0;
let checkedEarly = false;

const reply = (message: AnnBuildReply): void => port.postMessage(message);

port.on('message', (request: AnnBuildRequest) => {
  try {
    switch (request.type) {
      case 'rows': {
        scope.addRows(request.keys, request.vectors, request.scanned);
        if (request.scanned) {
          scanned += request.keys.length;
          reply({ type: 'taken' });
          // Part way: an index already missing neighbours among these memories will not serve the whole scope.
          if (!checkedEarly && scanned >= EARLY_RECALL_ROWS && scanned < data.rows) {
            checkedEarly = true;
            reply({ type: 'recall', recall: scope.measureRecall(data.candidates, false), final: false });
          }
        }
        break;
      }
      case 'remove':
        for (const key of request.keys) scope.remove(Number(key));
        break;
      case 'finish':
        reply({ type: 'recall', recall: scope.measureRecall(data.candidates), final: true });
        break;
      case 'save': {
        scope.save(request.path);
        reply({ type: 'saved', count: scope.count, bytes: statSync(request.path).size, sha1: fileSha1(request.path) });
        break;
      }
    }
  } catch (error) {
    reply({ type: 'failed', message: error instanceof Error ? error.message : String(error) });
  }
});
