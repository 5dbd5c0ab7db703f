import type { HistoryEvent, HistoryStore } from '@mem/core';

/**
 * Wraps a history store and keeps a copy of every event appended through it, so a test can
 * enumerate what a call wrote (the HistoryStore interface lists by memory id only).
 */
export function recordingHistory<T extends HistoryStore>(store: T): { store: T; appended: HistoryEvent[] } {
  const appended: HistoryEvent[] = [];
  const proxy = new Proxy(store, {
    get(target, property, receiver) {
      const value = Reflect.get(target, property, receiver) as unknown;
      if (property === 'append' && typeof value === 'function') {
        return async (request: Parameters<HistoryStore['append']>[0]) => {
          await (value as HistoryStore['append']).call(target, request);
          appended.push(...request.events);
        };
      }
      return typeof value === 'function' ? (value as (...args: unknown[]) => unknown).bind(target) : value;
    },
  });
  return { store: proxy, appended };
}
