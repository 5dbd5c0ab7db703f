import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
// @ts-expect-error: a plain ES module script without types.
import { assemble, render } from '../scripts/build-vector-scan.mjs';
import { VectorArena, scoresInJavaScript, strideOf } from './sqlite-vector-scan';

describe('the vector scan', () => {
  it('ships the module its WAT source assembles to (run build:wasm after editing either)', async () => {
    const source = join(import.meta.dirname, 'sqlite-vector-scan.wat');
    const generated = readFileSync(join(import.meta.dirname, 'sqlite-vector-scan-wasm.ts'), 'utf8');
    expect(generated).toBe(render(await assemble(readFileSync(source, 'utf8'))));
  });

  it('runs in WebAssembly SIMD on Node 20, and gives the dot products the JavaScript scan gives', () => {
    const simd = new VectorArena();
    expect(simd.simd).toBe(true);
    const plain = new VectorArena({ simd: false });
    expect(plain.simd).toBe(false);
    let seed = 1;
    const random = () => {
      seed = (seed * 16807) % 2147483647;
      return seed / 2147483647 - 0.5;
    };
    for (const dimensions of [1, 4, 5, 8, 12, 384, 1536]) {
      const stride = strideOf(dimensions);
      expect(stride % 4).toBe(0);
      const rows = 37;
      const results = [simd, plain].map((arena) => {
        seed = dimensions;
        const vectors = arena.allocate(rows * stride * 4)!;
        const queries = arena.allocate(2 * stride * 4)!;
        const out = arena.allocate(rows * 4)!;
        const floats = arena.floats;
        for (let index = 0; index < rows * stride; index++) floats[(vectors >> 2) + index] = index % stride < dimensions ? random() : 0;
        for (let index = 0; index < 2 * stride; index++) floats[(queries >> 2) + index] = index % stride < dimensions ? random() : 0;
        arena.scores(vectors, queries, out, rows, stride, false);
        const first = Array.from(arena.floats.subarray(out >> 2, (out >> 2) + rows));
        arena.scores(vectors, queries + stride * 4, out, rows, stride, true);
        const best = Array.from(arena.floats.subarray(out >> 2, (out >> 2) + rows));
        // The reference: sums in doubles over the same floats.
        const expected = Array.from({ length: rows }, (_, row) => {
          const dot = (query: number) => {
            let sum = 0;
            for (let column = 0; column < dimensions; column++) {
              sum += floats[(vectors >> 2) + row * stride + column]! * floats[(queries >> 2) + query * stride + column]!;
            }
            return sum;
          };
          return [dot(0), Math.max(dot(0), dot(1))];
        });
        return { first, best, expected };
      });
      for (const { first, best, expected } of results) {
        first.forEach((score, row) => expect(Math.abs(score - expected[row]![0]!), `${dimensions} dims, row ${row}`).toBeLessThan(1e-4));
        best.forEach((score, row) => expect(Math.abs(score - expected[row]![1]!), `${dimensions} dims, row ${row}`).toBeLessThan(1e-4));
      }
    }
  });

  it('writes unit vectors (zero stays zero, padding zero) in WebAssembly and in JavaScript alike', () => {
    for (const arena of [new VectorArena(), new VectorArena({ simd: false })]) {
      const offset = arena.allocate(3 * 8 * 4)!;
      arena.floats.fill(7, offset >> 2, (offset >> 2) + 24);
      const blob = (values: number[]) => new Uint8Array(new Float32Array(values).buffer);
      arena.writeUnitVector(blob([3, 0, 4, 0, 0]), offset, 5, 8);
      arena.writeUnitVector(blob([0, 0, 0, 0, 0]), offset + 32, 5, 8);
      arena.writeUnitVector(blob([1, 1, 1, 1, 1, 1, 1, 1]), offset + 64, 8, 8);
      const floats = Array.from(arena.floats.subarray(offset >> 2, (offset >> 2) + 24));
      const expected = [0.6, 0, 0.8, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, ...new Array<number>(8).fill(Math.sqrt(1 / 8))];
      floats.forEach((value, index) => expect(Math.abs(value - expected[index]!), `${arena.simd} ${index}`).toBeLessThan(1e-6));
    }
  });

  it('reuses released blocks by size and keeps what it holds when the memory grows', () => {
    const arena = new VectorArena();
    const first = arena.allocate(100)!;
    expect(first % 16).toBe(0);
    arena.floats[first >> 2] = 42;
    const big = arena.allocate(64 * 1024 * 1024)!;
    expect(big).toBeGreaterThan(first);
    expect(arena.floats.length).toBeGreaterThanOrEqual((big + 64 * 1024 * 1024) / 4);
    expect(arena.floats[first >> 2]).toBe(42);
    arena.release(first, 100);
    expect(arena.allocate(112)).toBe(first);
    expect(arena.allocate(5 * 1024 * 1024 * 1024)).toBeUndefined();
  });

  it('scans in JavaScript exactly the rows it is given', () => {
    const floats = new Float32Array(64);
    floats.set([1, 2, 3, 4, 5, 6, 7, 8], 0);
    floats.set([1, 1, 1, 1], 16);
    floats[40] = 99;
    scoresInJavaScript(floats, 0, 64, 128, 2, 4, 0);
    expect([floats[32], floats[33], floats[34]]).toEqual([10, 26, 0]);
  });
});
