import type { Embedder } from '@mem/core';
import { ScriptedLLM } from '@mem/core/testing';

/**
 * The scale part's scripted extraction: every call adds two facts, taken from `turns` (their first 120
 * characters) and numbered, so every text (and hash) differs from those stored before.
 */
export function twoFactsPerAdd(turns: readonly string[]): ScriptedLLM {
  let call = 0;
  return new ScriptedLLM(
    [
      () => {
        call++;
        return JSON.stringify({
          operations: [
            { op: 'ADD', text: `The user mentioned fact ${call}a: ${turns[(2 * call) % turns.length]!.slice(0, 120)}` },
            { op: 'ADD', text: `The user mentioned fact ${call}b: ${turns[(2 * call + 1) % turns.length]!.slice(0, 120)}` },
          ],
        });
      },
    ],
    { repeatLast: true },
  );
}

/**
 * An embedder that answers with the vector handed to it last (`next`), at once: the time of a
 * `Memory.search` through it is the search's own.
 */
export function precomputedEmbedder(): { readonly embedder: Embedder; next(vector: number[]): void } {
  let pending: number[] = [];
  return {
    embedder: {
      provider: 'bench',
      model: 'precomputed',
      async embed() {
        return { vectors: [pending], tokens: 0 };
      },
    },
    next(vector) {
      pending = vector;
    },
  };
}

/**
 * `target` with each method call's own wall time added to `spent` under `name.method` while
 * `measuring()` says so (a promise's time runs until it settles).
 */
export function timedMethods<T extends object>(name: string, target: T, spent: Map<string, number>, measuring: () => boolean): T {
  return new Proxy(target, {
    get(object, property, receiver) {
      const value = Reflect.get(object, property, receiver);
      if (typeof value !== 'function' || property === 'constructor') return value;
      return function (this: unknown, ...parameters: unknown[]) {
        const begin = performance.now();
        const result = value.apply(object, parameters);
        const key = `${name}.${String(property)}`;
        const add = () => {
          if (measuring()) spent.set(key, (spent.get(key) ?? 0) + performance.now() - begin);
        };
        if (result instanceof Promise) return result.finally(add);
        add();
        return result;
      };
    },
  });
}
