// One writer process of describeMultiProcessWrites: builds a Memory over the stores the adapter's
// module creates, then runs the writes the parent sends (50 at once) and reports, call by call,
// what was acknowledged and what failed (with the error's code). argv[2]: JSON WriterStart.
import { Memory, MemError } from '@mem/core';
import { HashEmbedder } from '@mem/core/testing';
import type { WriteOutcome, WriterCommand, WriterStart } from './multi-process-protocol';

interface StoresOfProcess {
  readonly vectorStore: ConstructorParameters<typeof Memory>[0]['vectorStore'];
  readonly historyStore: ConstructorParameters<typeof Memory>[0]['historyStore'];
  close?(): Promise<void>;
}

const start = JSON.parse(process.argv[2] ?? '{}') as WriterStart;
const scope = { userId: start.userId };

async function outcome(run: () => Promise<string | undefined>): Promise<WriteOutcome> {
  try {
    return { ok: true, id: await run() };
  } catch (error) {
    return { ok: false, code: MemError.is(error) ? error.code : 'UNTYPED', message: (error as Error).message };
  }
}

function writes(memory: Memory, command: WriterCommand): Promise<WriteOutcome>[] {
  return Array.from({ length: command.writers }, (_, writer) => {
    const tag = `p${start.process}w${writer}`;
    switch (command.scenario) {
      case 'distinct adds':
        return outcome(async () => (await memory.add(`fact ${tag}`, { scope, infer: false })).memories[0]?.id);
      case 'identical adds':
        return outcome(async () => (await memory.add('the one identical fact', { scope, infer: false })).memories[0]?.id);
      case 'idempotent retries':
        // The same call with one key from every writer of every process: the first call's ADD
        // (its memory's id) comes back to all of them, where plain identical adds would get NONE.
        return outcome(
          async () => (await memory.add('the retried fact', { scope, infer: false, idempotencyKey: 'retried-call' })).memories[0]?.id,
        );
      case 'metadata updates':
        return outcome(async () => {
          const id = command.memoryIds![writer % command.memoryIds!.length]!;
          await memory.update(id, { text: `version ${tag}`, metadata: { [`key_${tag}`]: true } }, { scope });
          return id;
        });
      case 'updates racing a delete':
        return outcome(async () => {
          const id = command.memoryIds![0]!;
          if (start.process === 0 && writer === Math.floor(command.writers / 2)) {
            await memory.delete(id, { scope });
            return `deleted:${id}`;
          }
          // One key, overwritten by every update (distinct keys from 100 writers would pass the limit of a memory's metadata keys).
          await memory.update(id, { text: `racing ${tag}`, metadata: { writer: tag } }, { scope });
          return id;
        });
    }
  });
}

async function main(): Promise<void> {
  // The adapter's module is loaded by URL at run time: a file the suite cannot know in advance.
  const module = (await import(start.storesModule)) as { default: (context: WriterStart['context']) => Promise<StoresOfProcess> };
  const stores = await module.default(start.context);
  const memory = new Memory({
    embedder: new HashEmbedder({ dimensions: 8 }),
    vectorStore: stores.vectorStore,
    historyStore: stores.historyStore,
  });
  process.on('message', async (command: WriterCommand | 'close') => {
    if (command === 'close') {
      await memory.close();
      await stores.close?.();
      process.exit(0);
    }
    const results = await Promise.all(writes(memory, command));
    process.send?.({ results });
  });
  process.send?.('ready');
}

void main();
