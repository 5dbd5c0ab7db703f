import { MemError, throwIfAborted } from '../errors';
import type { HistoryStore } from '../interfaces';
import type { Call, HistoryEvent } from '../types';

/** A {@link HistoryStore} in process memory. Use `@mem/history-sqlite` to keep history. */
export class InMemoryHistoryStore implements HistoryStore {
  readonly provider = 'in-memory';
  private readonly events: HistoryEvent[] = [];

  async append(request: Call<{ events: readonly HistoryEvent[] }>): Promise<void> {
    throwIfAborted(request.signal, 'in-memory history append');
    // All or none: check every id (against the store and within the batch) before storing any.
    const seen = new Set(this.events.map((event) => event.id));
    for (const event of request.events) {
      if (seen.has(event.id)) {
        throw new MemError('CONFLICT', 'A history event with this id is already stored (or appears twice in the batch). Give every event a fresh id; nothing was appended.');
      }
      seen.add(event.id);
    }
    this.events.push(...request.events.map((event) => structuredClone(event)));
  }

  async list(request: Call<{ memoryId: string }>): Promise<HistoryEvent[]> {
    throwIfAborted(request.signal, 'in-memory history list');
    return this.events.filter((event) => event.memoryId === request.memoryId).map((event) => structuredClone(event));
  }

  async reset(): Promise<void> {
    this.events.length = 0;
  }

  async close(): Promise<void> {}
}
