#!/usr/bin/env node
// Dependency audit of the published packages. Runs `pnpm audit --prod` first; when the registry
// does not serve the advisory endpoint (it answers 405 on the machines of this project), falls back
// to what can be checked offline:
// - the production closure of every published (non-private) package, read from pnpm-lock.yaml
//   (dependencies and optional dependencies, transitively);
// - each version's manifest from pnpm's metadata cache: deprecated versions and install scripts;
// - the versions of the packages with known high-severity advisories, checked against the first
//   patched versions listed in KNOWN below (kept by hand from the advisories; see the README).
// Exit code 1 when a deprecated version or a version below a first patched version is found.
import { spawnSync } from 'node:child_process';
import { existsSync, readFileSync, readdirSync } from 'node:fs';
import { homedir } from 'node:os';
import { join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { parseAllDocuments } from 'yaml';

const root = resolve(fileURLToPath(new URL('../../..', import.meta.url)));

const online = spawnSync('pnpm', ['audit', '--prod', '--json'], { cwd: root, encoding: 'utf8' });
if (online.status === 0 || /"advisories"/.test(online.stdout)) {
  process.stdout.write(online.stdout);
  process.exit(online.status ?? 1);
}
console.log(
  `pnpm audit --prod did not run: ${(online.stdout + online.stderr).match(/responded with \d+|ERR_PNPM_[A-Z_]+/)?.[0] ?? 'no answer'}. Offline checks instead.\n`,
);

/** Advisories of high or critical severity on packages of the closure: package → [first patched version, advisory]. */
const KNOWN = {
  sharp: ['0.35.0', 'GHSA-f88m-g3jw-g9cj (libvips, high)'],
  protobufjs: ['7.6.3', 'GHSA-xq3m-2v4x-88gg (code execution, critical)'],
  'tar-fs': ['2.1.4', 'CVE-2025-48387 / CVE-2025-59343 (path traversal, high)'],
  // First fixes inferred from the advisories' vulnerable ranges (onnxruntime-node: the version transformers.js moved to).
  'onnxruntime-node': ['1.27.0', 'GHSA-xcpc-8h2w-3j85 (AdmZip installer path, high)'],
  nanoid: ['3.3.8', 'CVE-2024-55565'],
  semver: ['7.5.2', 'CVE-2022-25883 (ReDoS, high)'],
  minimist: ['1.2.6', 'CVE-2021-44906 (prototype pollution, critical)'],
  ini: ['1.3.6', 'CVE-2020-7788 (prototype pollution, high)'],
  esbuild: ['0.25.0', 'GHSA-67mh-4wv8-2f99 (dev server)'],
  'better-sqlite3': ['7.6.2', 'CVE-2022-35737 (bundled SQLite)'],
};

const lock = parseAllDocuments(readFileSync(join(root, 'pnpm-lock.yaml'), 'utf8'))
  .map((document) => document.toJS())
  .find((document) => document?.importers?.['packages/core']);
const closure = new Map();
const stack = [];
for (const directory of readdirSync(join(root, 'packages'))) {
  const manifest = join(root, 'packages', directory, 'package.json');
  if (!existsSync(manifest) || JSON.parse(readFileSync(manifest, 'utf8')).private) continue;
  const importer = lock.importers[`packages/${directory}`] ?? {};
  for (const section of ['dependencies', 'optionalDependencies']) {
    for (const [name, info] of Object.entries(importer[section] ?? {}))
      if (!String(info.version).startsWith('link:')) stack.push(`${name}@${info.version}`);
  }
}
while (stack.length > 0) {
  const key = stack.pop();
  if (closure.has(key)) continue;
  const snapshot = lock.snapshots[key] ?? {};
  closure.set(key, snapshot);
  for (const section of ['dependencies', 'optionalDependencies'])
    for (const [name, version] of Object.entries(snapshot[section] ?? {})) stack.push(`${name}@${version}`);
}
const versions = [...new Set([...closure.keys()].map((key) => key.replace(/\(.*$/, '')))].sort();

/** A version's manifest from pnpm's metadata cache (`pacquet-meta-v1`: a header, an index, then the manifests). */
function cachedManifest(name, version) {
  for (const kind of ['metadata-full', 'metadata']) {
    const file = join(homedir(), '.cache', 'pnpm', 'v11', kind, 'https%3A+registry.npmjs.org', `${name}.jsonl`);
    if (!existsSync(file)) continue;
    const raw = readFileSync(file);
    const body = raw.subarray(raw.indexOf(10) + 1);
    const text = body.toString('utf8');
    const second = text.startsWith('{}') ? 2 : 0;
    const index = readJsonAt(text, second);
    const rest = body.subarray(Buffer.byteLength(text.slice(0, index.end)));
    const entry = index.value.versions?.find(([candidate]) => candidate === version);
    if (entry) return JSON.parse(rest.subarray(entry[1], entry[1] + entry[2]).toString('utf8'));
  }
  return undefined;
}

function readJsonAt(text, start) {
  let depth = 0;
  let inString = false;
  for (let index = start; index < text.length; index++) {
    const char = text[index];
    if (inString) {
      if (char === '\\') index++;
      else if (char === '"') inString = false;
    } else if (char === '"') inString = true;
    else if (char === '{' || char === '[') depth++;
    else if ((char === '}' || char === ']') && --depth === 0) return { value: JSON.parse(text.slice(start, index + 1)), end: index + 1 };
  }
  throw new Error('unterminated JSON in the metadata cache');
}

const compare = (a, b) => {
  const parts = (version) => version.split(/[.+-]/).slice(0, 3).map(Number);
  const [x, y] = [parts(a), parts(b)];
  for (let index = 0; index < 3; index++) if (x[index] !== y[index]) return x[index] - y[index];
  return 0;
};

const problems = [];
const scripts = [];
let uncached = 0;
for (const spec of versions) {
  const at = spec.lastIndexOf('@');
  const [name, version] = [spec.slice(0, at), spec.slice(at + 1)];
  const manifest = cachedManifest(name, version);
  if (!manifest) uncached++;
  if (manifest?.deprecated) problems.push(`${spec} is deprecated: ${manifest.deprecated}`);
  if (manifest?.hasInstallScript || manifest?.scripts?.install || manifest?.scripts?.postinstall || manifest?.scripts?.preinstall)
    scripts.push(spec);
  const known = KNOWN[name];
  if (known && compare(version, known[0]) < 0) problems.push(`${spec} is below ${known[0]}, the first version patched for ${known[1]}`);
}
console.log(`Published packages' production closure: ${versions.length} versions (${uncached} without a cached manifest).`);
console.log(`Install scripts: ${scripts.join(', ') || 'none'}.`);
console.log(
  `Checked against ${Object.keys(KNOWN).length} known advisories: ${Object.keys(KNOWN)
    .filter((name) => versions.some((spec) => spec.startsWith(`${name}@`)))
    .join(', ')}.`,
);
console.log(problems.length === 0 ? 'No deprecated version, no version below a known fix.' : problems.join('\n'));
process.exit(problems.length === 0 ? 0 : 1);
