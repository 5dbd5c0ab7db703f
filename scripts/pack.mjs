#!/usr/bin/env node
// Packs every public package of the workspace into one folder, so an app outside this repository can
// install mem before it is on the npm registry: `npm run pack:all` (default folder: packs/).
//
//   node scripts/pack.mjs [--out DIR] [--no-build]
//
// Builds the public packages first (turbo, cached), packs each with pnpm (which turns `workspace:^`
// into `^<version>`), then checks every tarball: it holds LICENSE, README.md and the files its
// `exports` name, and each @mem dependency is another tarball of the folder at a version its range
// accepts. Writes INSTALL.md into the folder with the npm and pnpm lines for this very folder, and
// for every package the tarballs npm needs for it (its @mem dependencies, direct or not).
import { spawnSync } from 'node:child_process';
import { existsSync, mkdirSync, readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { basename, dirname, join, relative, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';

const root = resolve(dirname(fileURLToPath(import.meta.url)), '..');
const args = process.argv.slice(2);
const outIndex = args.indexOf('--out');
const out = resolve(process.env.INIT_CWD ?? process.cwd(), outIndex >= 0 ? (args[outIndex + 1] ?? '') : join(root, 'packs'));
const build = !args.includes('--no-build');
if (outIndex >= 0 && !args[outIndex + 1]) fail('--out needs a folder, e.g. --out /tmp/mem-packs');

/** The embedded default an app needs for `Memory` on one SQLite file (what README.md installs). */
const EMBEDDED_DEFAULT = ['@mem/core', '@mem/sqlite', '@mem/vector-sqlite', '@mem/history-sqlite'];

function fail(message) {
  console.error(`pack: ${message}`);
  process.exit(1);
}

function pnpm(pnpmArgs, options = {}) {
  const result = spawnSync('bash', [join(root, 'scripts/pnpm.sh'), ...pnpmArgs], { cwd: root, encoding: 'utf8', ...options });
  if (result.status !== 0) fail(`pnpm ${pnpmArgs.join(' ')} failed:\n${result.stdout ?? ''}${result.stderr ?? ''}`);
  return result.stdout ?? '';
}

/** Workspace package folders, from the `packages:` globs of pnpm-workspace.yaml (`dir/*` forms). */
function workspaceFolders() {
  const yaml = readFileSync(join(root, 'pnpm-workspace.yaml'), 'utf8');
  const block = /^packages:\s*\n((?:\s+-.*\n?)+)/m.exec(yaml);
  if (!block) fail('pnpm-workspace.yaml has no packages: list');
  const globs = [...block[1].matchAll(/-\s*["']?([^"'\n]+?)["']?\s*$/gm)].map((match) => match[1]);
  return globs.flatMap((glob) => {
    if (!glob.endsWith('/*')) fail(`pnpm-workspace.yaml: only "folder/*" globs are understood, got ${glob}`);
    const parent = join(root, glob.slice(0, -2));
    return readdirSync(parent)
      .map((name) => join(parent, name))
      .filter((folder) => existsSync(join(folder, 'package.json')));
  });
}

const packages = workspaceFolders()
  .map((folder) => ({ folder, manifest: JSON.parse(readFileSync(join(folder, 'package.json'), 'utf8')) }))
  .filter(({ manifest }) => manifest.private !== true)
  .sort((a, b) => a.manifest.name.localeCompare(b.manifest.name));
if (packages.length === 0) fail('no public package found');

if (build) {
  console.log(`Building ${packages.length} public packages (turbo, cached) ...`);
  pnpm(['exec', 'turbo', 'run', 'build', '--output-logs=errors-only', ...packages.map(({ manifest }) => `--filter=${manifest.name}`)], {
    stdio: 'inherit',
  });
}

rmSync(out, { recursive: true, force: true });
mkdirSync(out, { recursive: true });
const packed = new Map();
for (const { folder, manifest } of packages) {
  const json = pnpm(['-C', folder, 'pack', '--pack-destination', out, '--json']);
  const report = JSON.parse(json);
  const files = report.files.map((file) => file.path);
  packed.set(manifest.name, { version: report.version, filename: report.filename, files, folder });
}

// What pnpm wrote into each tarball's package.json: read back from the tarball itself.
const problems = [];
for (const [name, tarball] of packed) {
  const listed = spawnSync('tar', ['-xzOf', tarball.filename, 'package/package.json'], { encoding: 'utf8' });
  if (listed.status !== 0) fail(`cannot read package.json from ${tarball.filename}: ${listed.stderr}`);
  const manifest = JSON.parse(listed.stdout);
  tarball.memDependencies = Object.keys({ ...manifest.dependencies, ...manifest.peerDependencies }).filter((dependency) =>
    dependency.startsWith('@mem/'),
  );
  for (const required of ['LICENSE', 'README.md', 'package.json']) {
    if (!tarball.files.includes(required)) problems.push(`${name}: the tarball has no ${required}`);
  }
  for (const target of exportTargets(manifest.exports)) {
    if (!tarball.files.includes(target.replace(/^\.\//, '')))
      problems.push(`${name}: exports names ${target}, which is not in the tarball`);
  }
  for (const field of ['dependencies', 'peerDependencies', 'optionalDependencies']) {
    for (const [dependency, range] of Object.entries(manifest[field] ?? {})) {
      if (String(range).startsWith('workspace:')) problems.push(`${name}: ${field}.${dependency} is still "${range}"`);
      if (!dependency.startsWith('@mem/')) continue;
      const target = packed.get(dependency);
      if (!target) {
        problems.push(`${name}: ${field}.${dependency} is not a public package of this workspace, so no app can install it`);
      } else if (range !== target.version && range !== `^${target.version}`) {
        problems.push(`${name}: ${field}.${dependency} is "${range}" but the packed ${dependency} is ${target.version}`);
      }
    }
  }
}
if (problems.length > 0) fail(`the tarballs are not installable:\n  ${problems.join('\n  ')}`);

const tarballOf = (name) => packed.get(name).filename;
const shown = (path) => (relative(process.cwd(), path).startsWith('..') ? path : `./${relative(process.cwd(), path)}`);
const npmLine = `npm install ${EMBEDDED_DEFAULT.map((name) => tarballOf(name)).join(' ')}`;
const overrides = [...packed.keys()].map((name) => `  '${name}': file:${tarballOf(name)}`).join('\n');
const pnpmLine = `pnpm add ${EMBEDDED_DEFAULT.filter((name) => name !== '@mem/sqlite')
  .map((name) => tarballOf(name))
  .join(' ')}`;
/** A package and every `@mem` package it needs, directly or not: what npm must be given for it. */
function withMemDependencies(name, seen = new Set()) {
  if (seen.has(name)) return seen;
  seen.add(name);
  for (const dependency of packed.get(name)?.memDependencies ?? []) withMemDependencies(dependency, seen);
  return seen;
}
const perPackage = [...packed.keys()]
  .map((name) => {
    const needed = [...withMemDependencies(name)].sort((a, b) => (a === name ? -1 : b === name ? 1 : a.localeCompare(b)));
    return `- \`${name}\`: ${needed.map((dependency) => `\`${basename(tarballOf(dependency))}\``).join(' ')}`;
  })
  .join('\n');
const install = `# Installing these tarballs

Packed from the mem workspace by \`npm run pack:all\`: ${packed.size} packages, each with its
\`@mem/*\` dependencies at the versions packed here.

## npm

Give npm the tarball of every \`@mem\` package you use **and of the \`@mem\` packages they depend on**
(npm looks anything else up on the registry, where mem is not yet published). The embedded default
(one SQLite file, no server):

\`\`\`sh
${npmLine}
\`\`\`

Each package with the tarballs npm needs for it (itself and the \`@mem\` packages it depends on,
directly or not; all in this folder):

${perPackage}

## pnpm

pnpm resolves the \`@mem\` dependencies of a tarball on the registry unless \`overrides\` point them
here, and installs no build script it was not allowed to run (better-sqlite3 compiles or downloads
its native module). Put this in \`pnpm-workspace.yaml\` next to your app's \`package.json\`:

\`\`\`yaml
overrides:
${overrides}
allowBuilds:
  better-sqlite3: true
  # @mem/vector-sqlite: usearch (approximate search) ships prebuilt binaries; its script only rebuilds when none fits
  usearch: false
  # @mem/embedder-transformers: onnxruntime-node's script downloads CUDA providers; the CPU runtime is in the package
  onnxruntime-node: false
  protobufjs: false
  sharp: false
\`\`\`

then

\`\`\`sh
${pnpmLine}
\`\`\`
`;
writeFileSync(join(out, 'INSTALL.md'), install);

console.log(`Packed ${packed.size} packages into ${shown(out)}:`);
for (const [name, tarball] of packed) console.log(`  ${name.padEnd(28)} ${tarball.version.padEnd(8)} ${shown(tarball.filename)}`);
console.log(
  `\nInstall them in your app (the lines for npm and pnpm are in ${shown(join(out, 'INSTALL.md'))}), e.g. with npm:\n  ${npmLine}`,
);

/** Every file path an `exports` map points at. */
function exportTargets(exports) {
  if (typeof exports === 'string') return exports.endsWith('package.json') ? [] : [exports];
  if (typeof exports !== 'object' || exports === null) return [];
  return Object.values(exports).flatMap((value) => exportTargets(value));
}
