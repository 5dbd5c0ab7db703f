#!/usr/bin/env node
// Scaffolds a provider package: `npm run new-adapter -- <kind> <name> [sdk@version]`
// kind: vector | history | llm | embedder | graph. Writes packages/<kind>-<name> with the
// house layout (tsup ESM+CJS+d.ts, vitest, conformance test) and prints the next steps.
import { copyFileSync, existsSync, mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';

const [kind, name, sdk] = process.argv.slice(2);
const kinds = { vector: 'VectorStore', history: 'HistoryStore', llm: 'LLM', embedder: 'Embedder', graph: 'GraphStore' };
if (!kinds[kind] || !/^[a-z][a-z0-9-]*$/.test(name ?? '')) {
  console.error('Usage: npm run new-adapter -- <vector|history|llm|embedder|graph> <name> [sdk@exact-version]');
  process.exit(2);
}
const dir = join('packages', `${kind}-${name}`);
if (existsSync(dir)) {
  console.error(`${dir} exists already.`);
  process.exit(2);
}
const pascal = name.replace(/(^|-)([a-z0-9])/g, (_, __, c) => c.toUpperCase());
const className = `${pascal}${kinds[kind]}`;
const dependencies = { '@mem/core': 'workspace:^' };
if (sdk) {
  const at = sdk.lastIndexOf('@');
  if (at <= 0) {
    console.error('Give the SDK with an exact version, e.g. chromadb@3.5.0');
    process.exit(2);
  }
  dependencies[sdk.slice(0, at)] = sdk.slice(at + 1);
}
// repository, homepage and bugs point into this repository, as in every sibling (packages/packaging checks them).
const root = JSON.parse(readFileSync('package.json', 'utf8'));
const directory = `packages/${kind}-${name}`;
const files = {
  'package.json': `${JSON.stringify(
    {
      name: `@mem/${kind}-${name}`,
      version: '0.0.0',
      description: `${pascal} ${kinds[kind]} adapter for mem.`,
      license: 'Apache-2.0',
      repository: { ...root.repository, directory },
      homepage: `${root.homepage.replace(/#readme$/, '')}/tree/main/${directory}#readme`,
      bugs: root.bugs,
      keywords: [
        'mem',
        'memory',
        'long-term-memory',
        'ai',
        'llm',
        { vector: 'vector-store', history: 'history', llm: 'llm-adapter', embedder: 'embeddings', graph: 'graph' }[kind],
        name,
      ],
      engines: root.engines,
      type: 'module',
      sideEffects: false,
      exports: {
        '.': {
          import: { types: './dist/index.d.ts', default: './dist/index.js' },
          require: { types: './dist/index.d.cts', default: './dist/index.cjs' },
        },
        './package.json': './package.json',
      },
      files: ['dist', 'README.md', 'CHANGELOG.md'],
      scripts: { build: 'tsup', typecheck: 'tsc --noEmit', test: 'vitest run' },
      dependencies,
      devDependencies: { '@mem/conformance': 'workspace:^' },
    },
    null,
    2,
  )}\n`,
  'tsconfig.json':
    JSON.stringify({ extends: '../../tsconfig.base.json', compilerOptions: { noEmit: true }, include: ['src', '*.config.ts'] }, null, 2) +
    '\n',
  'tsup.config.ts': `import { defineConfig } from 'tsup';\n\nexport default defineConfig({\n  entry: ['src/index.ts'],\n  format: ['esm', 'cjs'],\n  dts: true,\n  sourcemap: true,\n  clean: true,\n});\n`,
  'vitest.config.ts': `import { defineConfig } from 'vitest/config';\n\nexport default defineConfig({ test: { include: ['src/**/*.test.ts'] } });\n`,
  'src/index.ts': `export { ${className}, type ${className}Options } from './${kind}-${name}';\n`,
  [`src/${kind}-${name}.ts`]: `import type { ${kinds[kind]} } from '@mem/core/adapter';\n\n/** Options of {@link ${className}}. */\nexport interface ${className}Options {}\n\n/** ${pascal} adapter. Implement every method of {@link ${kinds[kind]}}; declare what the backend does natively in \`capabilities\`. */\nexport declare class ${className} implements ${kinds[kind]} {}\n`,
  [`src/${kind}-${name}.conformance.test.ts`]: `import { describe${kinds[kind]} } from '@mem/conformance';\nimport { ${className} } from './${kind}-${name}';\n\n// The suite owns the lifecycle: a fresh subject per test, disposed after it, pass or fail.\ndescribe${kinds[kind]}('${className}', async ({ namespace }) => {\n  const subject = new ${className}({ /* use namespace for a collection / index name */ });\n  return { subject, dispose: async () => { /* drop what the test created */ } };\n});\n`,
  'README.md': `# @mem/${kind}-${name}\n\n${pascal} ${kinds[kind]} adapter for [mem](../../README.md).\n\n\`\`\`sh\npnpm add @mem/core @mem/${kind}-${name}\n\`\`\`\n\n## Options\n\n| option | type | default | env variable |\n| --- | --- | --- | --- |\n\n## Capabilities\n\n## How CI verifies it\n`,
};
for (const [file, content] of Object.entries(files)) {
  mkdirSync(join(dir, file, '..'), { recursive: true });
  writeFileSync(join(dir, file), content);
}
copyFileSync('LICENSE', join(dir, 'LICENSE'));
console.log(`Created ${dir}. Next:
  1. implement ${className} in ${dir}/src/${kind}-${name}.ts
  2. npm run pnpm -- install && npm run pnpm -- --filter @mem/${kind}-${name} test   (runs describe${kinds[kind]} from @mem/conformance)
  3. fill in README.md (options, env variables, capabilities, how CI verifies it) and the keywords of package.json
  4. npm run changeset`);
