import { VECTOR_SCAN_WASM } from './sqlite-vector-scan-wasm';

/** The part of the WebAssembly JavaScript API used here (the TypeScript libraries this project compiles with leave it out). */
interface WasmMemory {
  readonly buffer: ArrayBuffer;
  grow(pages: number): number;
}
interface WasmApi {
  readonly Memory: new (descriptor: { readonly initial: number; readonly maximum?: number }) => WasmMemory;
  readonly Module: new (bytes: Uint8Array) => object;
  readonly Instance: new (module: object, imports: object) => { readonly exports: Record<string, unknown> };
  validate(bytes: Uint8Array): boolean;
}
/** `undefined` where the runtime has no WebAssembly at all (Node's `--jitless`): the vector cache is then off. */
const wasm = (globalThis as unknown as { readonly WebAssembly?: WasmApi }).WebAssembly;

/** Bytes of a WebAssembly memory page. */
const PAGE_BYTES = 65_536;
/** Largest memory a 32-bit WebAssembly module addresses: 4 GiB. */
const MAX_PAGES = 65_536;
/** Pages the memory grows by at least, so that filling a cache grows it a few times, not once per chunk. */
const GROWTH_PAGES = 256;

/**
 * `scores(rows, query, out, count, stride, keep)`: for each of `count` rows of `stride` floats from
 * byte `rows`, its dot product with the `stride` floats at byte `query`, written as a float at byte
 * `out` + 4 × row (with `keep` not 0, the larger of it and the float already there). See
 * sqlite-vector-scan.wat.
 */
export type ScoresKernel = (rows: number, query: number, out: number, count: number, stride: number, keep: number) => void;

/** `normalize(row, stride)`: scales the `stride` floats at byte `row` to length 1 (a zero vector stays zero). */
export type NormalizeKernel = (row: number, stride: number) => void;

/**
 * The memory the vector caches of a process keep their vectors in: one WebAssembly memory (up to
 * 4 GiB), so the scan of sqlite-vector-scan.wat (WebAssembly SIMD, four floats per instruction)
 * reads the vectors where they are, without copying them. Blocks are handed out from the bottom up
 * and reused by size once released; the memory never shrinks (WebAssembly memories cannot), so a
 * cache that held 1 GB keeps the pages for the next scopes it reads. Where WebAssembly SIMD is not
 * available (`WebAssembly.validate` refuses the module), the same scan runs in JavaScript on the
 * same memory.
 */
export class VectorArena {
  /** Whether the scan runs in WebAssembly SIMD (else in JavaScript). */
  readonly simd: boolean;
  private readonly memory: WasmMemory;
  private readonly kernel: ScoresKernel;
  private readonly normalizer: NormalizeKernel;
  private bytesView: Uint8Array;
  private view: Float32Array;
  private top = 0;
  private readonly released = new Map<number, number[]>();

  /** @throws {Error} where the runtime has no WebAssembly memory (see {@link vectorArena}). */
  constructor(options: { readonly simd?: boolean } = {}) {
    if (wasm === undefined) throw new Error('WebAssembly is not available');
    this.memory = new wasm.Memory({ initial: 1, maximum: MAX_PAGES });
    this.view = new Float32Array(this.memory.buffer);
    this.bytesView = new Uint8Array(this.memory.buffer);
    const bytes = Buffer.from(VECTOR_SCAN_WASM, 'base64');
    this.simd = options.simd !== false && wasm.validate(bytes);
    if (this.simd) {
      const instance = new wasm.Instance(new wasm.Module(bytes), { env: { memory: this.memory } });
      this.kernel = instance.exports.scores as ScoresKernel;
      this.normalizer = instance.exports.normalize as NormalizeKernel;
    } else {
      this.kernel = (rows, query, out, count, stride, keep) => scoresInJavaScript(this.floats, rows, query, out, count, stride, keep);
      this.normalizer = (row, stride) => normalizeInJavaScript(this.floats, row, stride);
    }
  }

  /**
   * Writes the float32 vector `blob` (`dimensions` floats) at byte `offset` as a unit vector of
   * `stride` floats, the floats past `dimensions` zero.
   */
  writeUnitVector(blob: Uint8Array, offset: number, dimensions: number, stride: number): void {
    if (this.bytesView.buffer !== this.memory.buffer) this.bytesView = new Uint8Array(this.memory.buffer);
    this.bytesView.set(blob.subarray(0, dimensions * 4), offset);
    if (stride > dimensions) this.floats.fill(0, (offset >> 2) + dimensions, (offset >> 2) + stride);
    this.normalizer(offset, stride);
  }

  /** The memory as floats (a new view after the memory grew). */
  get floats(): Float32Array {
    if (this.view.buffer !== this.memory.buffer) this.view = new Float32Array(this.memory.buffer);
    return this.view;
  }

  /** Bytes of memory in use or held for reuse. */
  get reservedBytes(): number {
    return this.top;
  }

  /** The byte offset (a multiple of 16) of a new block of `bytes`, or `undefined` when the memory is full. */
  allocate(bytes: number): number | undefined {
    const size = roundUp(bytes);
    const reusable = this.released.get(size);
    if (reusable !== undefined && reusable.length > 0) return reusable.pop();
    const end = this.top + size;
    const have = this.memory.buffer.byteLength;
    if (end > have) {
      const needed = Math.ceil((end - have) / PAGE_BYTES);
      const pages = have / PAGE_BYTES;
      if (pages + needed > MAX_PAGES) return undefined;
      try {
        this.memory.grow(Math.min(MAX_PAGES - pages, Math.max(needed, GROWTH_PAGES)));
      } catch {
        return undefined;
      }
    }
    const offset = this.top;
    this.top = end;
    return offset;
  }

  /** Gives back a block {@link allocate} returned, for reuse by blocks of the same size. */
  release(offset: number, bytes: number): void {
    const size = roundUp(bytes);
    let list = this.released.get(size);
    if (list === undefined) this.released.set(size, (list = []));
    list.push(offset);
  }

  /** Runs the scan (see {@link ScoresKernel}). */
  scores(rows: number, query: number, out: number, count: number, stride: number, keep: boolean): void {
    this.kernel(rows, query, out, count, stride, keep ? 1 : 0);
  }
}

let shared: VectorArena | null | undefined;

/**
 * The arena of the process, made on first use (one WebAssembly memory for every store's cache), or
 * `undefined` where the runtime cannot make one (no WebAssembly, or no room to reserve its memory).
 */
export function vectorArena(): VectorArena | undefined {
  if (shared === undefined) {
    try {
      shared = new VectorArena();
    } catch {
      shared = null;
    }
  }
  return shared ?? undefined;
}

/** Floats per row for `dimensions`: rounded up to a multiple of 4 (one SIMD lane group), the rest zero. */
export function strideOf(dimensions: number): number {
  return Math.ceil(dimensions / 4) * 4;
}

function roundUp(bytes: number): number {
  return Math.ceil(bytes / 16) * 16;
}

/** The scan of sqlite-vector-scan.wat in JavaScript (the sums in doubles). */
export function scoresInJavaScript(
  floats: Float32Array,
  rows: number,
  query: number,
  out: number,
  count: number,
  stride: number,
  keep: number,
): void {
  const first = query >> 2;
  let row = rows >> 2;
  const scores = out >> 2;
  for (let index = 0; index < count; index++) {
    let a = 0;
    let b = 0;
    let c = 0;
    let d = 0;
    for (let column = 0; column < stride; column += 4) {
      a += floats[row + column]! * floats[first + column]!;
      b += floats[row + column + 1]! * floats[first + column + 1]!;
      c += floats[row + column + 2]! * floats[first + column + 2]!;
      d += floats[row + column + 3]! * floats[first + column + 3]!;
    }
    const sum = a + b + (c + d);
    floats[scores + index] = keep !== 0 ? Math.max(sum, floats[scores + index]!) : sum;
    row += stride;
  }
}

/** The normalisation of sqlite-vector-scan.wat in JavaScript (the sum in doubles). */
export function normalizeInJavaScript(floats: Float32Array, row: number, stride: number): void {
  const first = row >> 2;
  let sum = 0;
  for (let index = 0; index < stride; index++) sum += floats[first + index]! * floats[first + index]!;
  if (sum === 0) return;
  const scale = 1 / Math.sqrt(sum);
  for (let index = 0; index < stride; index++) floats[first + index] = floats[first + index]! * scale;
}
