// Assembles src/sqlite-vector-scan.wat into src/sqlite-vector-scan-wasm.ts (the module's bytes, base64),
// with the pinned devDependency wabt. `--check` only compares, failing when the two differ.
import { readFileSync, writeFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import wabtInit from 'wabt';

const source = join(dirname(fileURLToPath(import.meta.url)), '..', 'src');
const wat = readFileSync(join(source, 'sqlite-vector-scan.wat'), 'utf8');
const generated = join(source, 'sqlite-vector-scan-wasm.ts');

export async function assemble(text) {
  const wabt = await wabtInit();
  const module = wabt.parseWat('sqlite-vector-scan.wat', text, { simd: true });
  try {
    module.validate();
    return Buffer.from(module.toBinary({}).buffer).toString('base64');
  } finally {
    module.destroy();
  }
}

export function render(base64) {
  return `// Generated from sqlite-vector-scan.wat by scripts/build-vector-scan.mjs (wabt 1.0.39): do not edit.
// Run \`pnpm --filter @mem/vector-sqlite run build:wasm\` after changing the WAT.

/** The WebAssembly module of sqlite-vector-scan.wat, base64. */
export const VECTOR_SCAN_WASM =
  '${base64}';
`;
}

if (process.argv[1] === fileURLToPath(import.meta.url)) {
  const expected = render(await assemble(wat));
  if (process.argv.includes('--check')) {
    if (readFileSync(generated, 'utf8') !== expected) {
      console.error('src/sqlite-vector-scan-wasm.ts does not match src/sqlite-vector-scan.wat: run build:wasm');
      process.exit(1);
    }
  } else {
    writeFileSync(generated, expected);
    console.log(`wrote ${generated}`);
  }
}
