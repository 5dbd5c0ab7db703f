import { execFile, spawnSync } from 'node:child_process';
import { copyFileSync, existsSync, mkdirSync, mkdtempSync, readdirSync, readFileSync, realpathSync, rmSync, writeFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { promisify } from 'node:util';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { exportedSubpaths, publicPackages, readJson, ROOT } from './workspace';

// What a stranger does with mem before it is on the registry: pack every public package
// (`npm run pack:all`, here into a temporary folder), then, in a fresh app OUTSIDE the workspace,
// install the tarballs exactly as the generated INSTALL.md says (npm, and pnpm), type-check the app
// with --strict and no skipLibCheck under node16, nodenext and bundler resolution, ESM and CommonJS,
// and run add, search and history through both entry points. Third-party packages come from the
// registry (or the package managers' caches); nothing else is downloaded.
const execFileAsync = promisify(execFile);
const require = createRequire(import.meta.url);
const tsc = require.resolve('typescript/bin/tsc');
const work = realpathSync(mkdtempSync(join(tmpdir(), 'mem-consumer-')));
const packs = join(work, 'packs');
const fixtures = join(ROOT, 'packages/packaging/consumer');
/** The Node types the app compiles against: the workspace's pin. */
const typesNode = `@types/node@${readJson<{ devDependencies: Record<string, string> }>(join(ROOT, 'package.json')).devDependencies['@types/node']}`;
const timings: string[] = [];

/**
 * What an app needs, besides @types/node, to type-check a package because of a third-party
 * dependency's own declarations (not mem's): the AI SDK's (`ai`, `@ai-sdk/provider`) use DOM types
 * (HeadersInit, RequestCredentials, FileList) and import `json-schema` without depending on its
 * types. Such a package is checked in a program of its own with that environment, so every other
 * package stays proven without DOM types. packages/ai-sdk/README.md tells users the same.
 */
const THIRD_PARTY_NEEDS: Readonly<Record<string, { readonly lib: readonly string[]; readonly types: readonly string[] }>> = {
  '@mem/ai-sdk': { lib: ['dom'], types: ['@types/json-schema@7.0.15'] },
};

/**
 * The child processes' environment: this machine's, without what npm or pnpm set for the workspace
 * script that runs this test (`npm_*`, INIT_CWD, CI, which turns on pnpm's frozen lockfile), plus
 * what installs need here (scripts/env.sh: Node's headers for node-gyp, no CUDA download).
 */
function installEnvironment(): NodeJS.ProcessEnv {
  const env: NodeJS.ProcessEnv = {};
  for (const [name, value] of Object.entries(process.env)) {
    if (!/^(npm_|pnpm_|INIT_CWD$|CI$|VITEST|TURBO_HASH)/i.test(name)) env[name] = value;
  }
  env.npm_config_nodedir = process.env.npm_config_nodedir ?? dirname(dirname(process.execPath));
  env.ONNXRUNTIME_NODE_INSTALL = 'skip';
  // better-sqlite3 downloads a prebuilt binary from GitHub (unreachable here), else compiles for
  // minutes. prebuild-install also looks in a local folder first: give it the binary the workspace
  // built from the same version, so the install takes seconds, as it does for users.
  env.npm_config_better_sqlite3_local_prebuilds = join(work, 'prebuilds');
  return env;
}

async function timed<T>(label: string, action: () => Promise<T> | T): Promise<T> {
  const started = performance.now();
  try {
    return await action();
  } finally {
    timings.push(`${label} ${((performance.now() - started) / 1000).toFixed(1)} s`);
  }
}

function run(command: string, args: readonly string[], cwd: string): string {
  const result = spawnSync(command, args, { cwd, env: installEnvironment(), encoding: 'utf8', maxBuffer: 64 * 1024 * 1024 });
  if (result.status !== 0) {
    throw new Error(`${command} ${args.join(' ')} (in ${cwd}) exited with ${result.status}:\n${result.stdout}\n${result.stderr}`);
  }
  return result.stdout;
}

/** The code blocks of INSTALL.md, by language. */
function installBlocks(): { sh: string[]; yaml: string[] } {
  const text = readFileSync(join(packs, 'INSTALL.md'), 'utf8');
  const blocks = { sh: [] as string[], yaml: [] as string[] };
  for (const match of text.matchAll(/```(sh|yaml)\n([\s\S]*?)```/g)) blocks[match[1] as 'sh' | 'yaml'].push(match[2]!.trim());
  return blocks;
}

/** Splits a one-line shell command of INSTALL.md into its words (paths have no spaces: checked). */
function words(line: string): string[] {
  expect(line, 'INSTALL.md commands are one line each').not.toContain('\n');
  return line.split(/\s+/);
}

/** A new app folder: an ESM package.json (the .cts files are CommonJS whatever it says) and the entry points. */
function newApp(name: string): string {
  const app = join(work, name);
  mkdirSync(join(app, 'src'), { recursive: true });
  writeFileSync(join(app, 'package.json'), `${JSON.stringify({ name, version: '1.0.0', private: true, type: 'module' }, null, 2)}\n`);
  for (const file of readdirSync(fixtures)) copyFileSync(join(fixtures, file), join(app, 'src', file));
  return app;
}

/**
 * Writes `<folder>/all.mts` and `<folder>/all.cts`, importing every entry point (`exports` subpath)
 * of the given packages, so tsc loads and checks every published declaration file, ESM and CommonJS.
 */
function importEverything(folder: string, names: readonly string[]): void {
  const specifiers = publicPackages()
    .filter(({ manifest }) => names.includes(manifest.name))
    .flatMap(({ manifest }) => exportedSubpaths(manifest.exports).map((subpath) => `${manifest.name}${subpath.slice(1)}`));
  const source = `${specifiers.map((specifier, index) => `import * as entry${index} from '${specifier}';`).join('\n')}
export const entries = [${specifiers.map((_, index) => `entry${index}`).join(', ')}];
`;
  mkdirSync(folder, { recursive: true });
  writeFileSync(join(folder, 'all.mts'), source);
  writeFileSync(join(folder, 'all.cts'), source);
}

/** `@mem/ai-sdk` → `types-ai-sdk`: the folder holding the imports of a package with third-party needs. */
function folderOf(name: string): string {
  return `types-${name.replace(/^@mem\//, '')}`;
}

const STRICT = { target: 'es2022', lib: ['es2023'], strict: true, skipLibCheck: false, types: ['node'] };
const RESOLUTIONS = {
  node16: { module: 'node16', moduleResolution: 'node16' },
  // nodenext also emits esm.mjs and cjs.cjs, which the runtime check runs.
  nodenext: { module: 'nodenext', moduleResolution: 'nodenext' },
  bundler: { module: 'preserve', moduleResolution: 'bundler' },
} as const;

/**
 * tsc under the three resolutions at once (two cores: about half the time of one after another),
 * over `src` (the nodenext program also emits esm.mjs and cjs.cjs for the runtime check) and over
 * each folder of {@link THIRD_PARTY_NEEDS} with its extra `lib`.
 */
async function typeCheck(app: string, extra: Readonly<Record<string, readonly string[]>> = {}): Promise<Record<string, string>> {
  const programs = Object.entries(RESOLUTIONS).flatMap(([name, resolution]) => [
    {
      name,
      include: 'src',
      compilerOptions: { ...STRICT, ...resolution, ...(name === 'nodenext' ? { outDir: 'out' } : { noEmit: true }) },
    },
    ...Object.entries(extra).map(([folder, lib]) => ({
      name: `${name} ${folder}`,
      include: folder,
      compilerOptions: { ...STRICT, ...resolution, lib: [...STRICT.lib, ...lib], noEmit: true },
    })),
  ]);
  const outcomes = await Promise.all(
    programs.map(async ({ name, include, compilerOptions }) => {
      const file = `tsconfig.${name.replace(/\W+/g, '-')}.json`;
      writeFileSync(join(app, file), JSON.stringify({ compilerOptions, include: [include] }));
      try {
        await execFileAsync(process.execPath, [tsc, '-p', file], { cwd: app, maxBuffer: 64 * 1024 * 1024 });
        return [name, 'ok'] as const;
      } catch (error) {
        const failed = error as { stdout?: string; stderr?: string };
        return [name, `${failed.stdout ?? ''}${failed.stderr ?? ''}`.trim() || String(error)] as const;
      }
    }),
  );
  return Object.fromEntries(outcomes);
}

/** Runs the compiled ESM and CommonJS entries on fresh database files; returns what each printed. */
function runEntries(app: string): unknown[] {
  return ['esm.mjs', 'cjs.cjs'].map((entry, index) =>
    JSON.parse(run(process.execPath, [join('out', entry), join(app, `mem-${index}.db`)], app)),
  );
}

function expectScenario(results: unknown[]): void {
  for (const format of ['esm', 'cjs']) {
    expect(results).toContainEqual({
      format,
      events: ['ADD Is vegetarian', 'ADD Lives in Lisbon'],
      top: 'Is vegetarian',
      history: ['ADD'],
      // One class whichever door it comes from (`@mem/core`, `@mem/core/adapter`) in each module
      // system; across the two builds, MemError.is still recognises it.
      sameMemErrorClass: true,
      rejectedIsMemError: true,
      recognisedByTheOtherBuild: true,
    });
  }
}

beforeAll(async () => {
  await timed('pack', () => run(process.execPath, [join(ROOT, 'scripts/pack.mjs'), '--out', packs, '--no-build'], ROOT));
  // The prebuilt binary in prebuild-install's naming: <name>-v<version>-node-v<abi>-<platform>-<arch>.tar.gz
  const betterSqlite = dirname(createRequire(join(ROOT, 'packages/sqlite/package.json')).resolve('better-sqlite3/package.json'));
  const { version } = readJson<{ version: string }>(join(betterSqlite, 'package.json'));
  mkdirSync(join(work, 'prebuilds'));
  const tarball = join(
    work,
    'prebuilds',
    `better-sqlite3-v${version}-node-v${process.versions.modules}-${process.platform}-${process.arch}.tar.gz`,
  );
  run('tar', ['-czf', tarball, '-C', betterSqlite, 'build/Release/better_sqlite3.node'], work);
});

afterAll(() => {
  console.log(`consumer test: ${timings.join(', ')}`);
  rmSync(work, { recursive: true, force: true });
});

describe('the packed tarballs', () => {
  it('are every public package, each with its LICENSE', () => {
    const tarballs = readdirSync(packs).filter((file) => file.endsWith('.tgz'));
    expect(tarballs).toHaveLength(publicPackages().length);
    for (const tarball of tarballs) {
      expect(run('tar', ['-tzf', join(packs, tarball)], packs).split('\n'), tarball).toContain('package/LICENSE');
    }
  });

  it("are listed in INSTALL.md with the tarballs npm needs for each, which for the embedded default's stores is its npm line", () => {
    const listed = new Map(
      [...readFileSync(join(packs, 'INSTALL.md'), 'utf8').matchAll(/^- `(@mem\/[^`]+)`: (.+)$/gm)].map((match) => [
        match[1]!,
        [...match[2]!.matchAll(/`([^`]+\.tgz)`/g)].map((tarball) => tarball[1]!),
      ]),
    );
    expect([...listed.keys()].sort()).toEqual(
      publicPackages()
        .map(({ manifest }) => manifest.name)
        .sort(),
    );
    // The npm app below installs exactly this union and runs: a list missing a dependency fails here.
    const union = new Set(['@mem/vector-sqlite', '@mem/history-sqlite'].flatMap((name) => listed.get(name) ?? []));
    const npmLine = installBlocks().sh.find((line) => line.startsWith('npm install '))!;
    expect([...union].sort()).toEqual(
      words(npmLine)
        .slice(2)
        .map((path) => path.split('/').pop())
        .sort(),
    );
  });
});

describe('an app outside the workspace, installed with npm as INSTALL.md says', () => {
  let app: string;
  beforeAll(async () => {
    app = newApp('npm-app');
    const npmLine = installBlocks().sh.find((line) => line.startsWith('npm install '));
    expect(npmLine, 'INSTALL.md has an npm install line').toBeDefined();
    const [command, ...args] = words(npmLine!);
    await timed('npm install', () => {
      run(command!, [...args, '--no-audit', '--no-fund'], app);
      run('npm', ['install', '--no-audit', '--no-fund', '--save-dev', typesNode], app);
    });
    expect(existsSync(join(app, 'node_modules/better-sqlite3/build/Release/better_sqlite3.node'))).toBe(true);
  });

  it('type-checks with --strict and no skipLibCheck under node16, nodenext and bundler, ESM and CommonJS', async () => {
    const outcomes = await timed('npm app tsc', () => typeCheck(app));
    expect(outcomes).toEqual({ node16: 'ok', nodenext: 'ok', bundler: 'ok' });
  });

  it('adds, searches and reads history through the ESM and the CommonJS entry point', () => {
    expectScenario(runEntries(app));
  });
});

describe('an app outside the workspace, installed with pnpm as INSTALL.md says', () => {
  let app: string;
  const pnpm = (args: string[]) => run('bash', [join(ROOT, 'scripts/pnpm.sh'), ...args], app);
  beforeAll(async () => {
    app = newApp('pnpm-app');
    const blocks = installBlocks();
    expect(blocks.yaml, 'INSTALL.md has one pnpm-workspace.yaml block').toHaveLength(1);
    writeFileSync(join(app, 'pnpm-workspace.yaml'), `${blocks.yaml[0]}\n`);
    const pnpmLine = blocks.sh.find((line) => line.startsWith('pnpm add '));
    expect(pnpmLine, 'INSTALL.md has a pnpm add line').toBeDefined();
    const everyTarball = readdirSync(packs)
      .filter((file) => file.endsWith('.tgz'))
      .map((file) => join(packs, file));
    await timed('pnpm install', () => {
      pnpm(words(pnpmLine!).slice(1));
      // Then every other public package, so every published declaration file gets type-checked.
      pnpm(['add', ...everyTarball, typesNode, ...Object.values(THIRD_PARTY_NEEDS).flatMap((needs) => needs.types)]);
    });
    const names = publicPackages().map(({ manifest }) => manifest.name);
    importEverything(
      join(app, 'src'),
      names.filter((name) => !(name in THIRD_PARTY_NEEDS)),
    );
    for (const name of Object.keys(THIRD_PARTY_NEEDS)) importEverything(join(app, folderOf(name)), [name]);
  });

  it('type-checks every entry of every public package with --strict and no skipLibCheck under node16, nodenext and bundler, ESM and CommonJS', async () => {
    const extra = Object.fromEntries(Object.entries(THIRD_PARTY_NEEDS).map(([name, needs]) => [folderOf(name), needs.lib]));
    const outcomes = await timed('pnpm app tsc', () => typeCheck(app, extra));
    const expected = Object.keys(RESOLUTIONS).flatMap((name) => [name, ...Object.keys(extra).map((folder) => `${name} ${folder}`)]);
    expect(outcomes).toEqual(Object.fromEntries(expected.map((name) => [name, 'ok'])));
  });

  it('adds, searches and reads history through the ESM and the CommonJS entry point', () => {
    expectScenario(runEntries(app));
  });
});
