// Generated from sqlite-vector-scan.wat by scripts/build-vector-scan.mjs (wabt 1.0.39): do not edit.
// Run `pnpm --filter @mem/vector-sqlite run build:wasm` after changing the WAT.

/** The WebAssembly module of sqlite-vector-scan.wat, base64. */
export const VECTOR_SCAN_WASM =
  'AGFzbQEAAAABCgFgBn9/f39/fwACDwEDZW52Bm1lbW9yeQIAAQMCAQAHCgEGc2NvcmVzAAAKngIBmwIDBn8CewF9IARBAnQhCiAKQWBxIQsgACEGIAIhByACIANBAnRqIQgCQANAIAcgCE8NAf0MAAAAAAAAAAAAAAAAAAAAACEM/QwAAAAAAAAAAAAAAAAAAAAAIQ1BACEJAkADQCAJIAtPDQEgDCAGIAlq/QAEACABIAlq/QAEAP3mAf3kASEMIA0gBiAJav0ABBAgASAJav0ABBD95gH95AEhDSAJQSBqIQkMAAsLIAkgCkkEQCAMIAYgCWr9AAQAIAEgCWr9AAQA/eYB/eQBIQwLIAwgDf3kASEMIAz9HwAgDP0fAZIgDP0fAiAM/R8DkpIhDiAFBEAgDiAHKgIAlyEOCyAHIA44AgAgBiAKaiEGIAdBBGohBwwACwsL';
