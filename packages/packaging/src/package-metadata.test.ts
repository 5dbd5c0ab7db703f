import { existsSync, readdirSync, readFileSync } from 'node:fs';
import { builtinModules } from 'node:module';
import { dirname, join } from 'node:path';
import ts from 'typescript';
import { describe, expect, it } from 'vitest';
import { exportTargets, type Manifest, publicPackages, readJson, ROOT, workspacePackages } from './workspace';

// Every package.json of the workspace (new packages included, whoever adds them) carries what a
// registry page and a user need, and every public package ships what an app needs to install,
// type-check and license it. Each failure says exactly what to add.
const root = readJson<Manifest & { repository: { url: string }; homepage: string; bugs: { url: string } }>(join(ROOT, 'package.json'));
const site = root.homepage.replace(/#readme$/, '');
const license = readFileSync(join(ROOT, 'LICENSE'), 'utf8');

describe('the root', () => {
  it('has the Apache-2.0 LICENSE, full text, and the fields every package derives its own from', () => {
    expect(license).toContain('Apache License\n                           Version 2.0, January 2004');
    expect(license).toContain('END OF TERMS AND CONDITIONS');
    expect(root.license).toBe('Apache-2.0');
    expect(root.repository.url).toMatch(/^git\+https:\/\/.+\.git$/);
    expect(root.homepage).toMatch(/^https:\/\/.+#readme$/);
    expect(root.bugs.url).toMatch(/^https:\/\//);
    expect(root.engines).toEqual({ node: '>=20' });
  });
});

describe.each(workspacePackages().map((entry) => [entry.manifest.name, entry] as const))('%s', (_name, { directory, manifest }) => {
  it('has license, repository, homepage, bugs, keywords and engines', () => {
    const expected = {
      license: 'Apache-2.0',
      repository: { type: 'git', url: root.repository.url, directory },
      homepage: `${site}/tree/main/${directory}#readme`,
      bugs: root.bugs,
      engines: root.engines,
    };
    const actual = Object.fromEntries(Object.keys(expected).map((key) => [key, manifest[key as keyof Manifest]]));
    expect(actual, `${directory}/package.json: set these fields exactly (copy from a sibling)`).toEqual(expected);
    expect(
      Array.isArray(manifest.keywords) &&
        manifest.keywords.length > 1 &&
        manifest.keywords.includes('mem') &&
        manifest.keywords.every((keyword) => typeof keyword === 'string' && /^[a-z0-9][a-z0-9.-]*$/.test(keyword)),
      `${directory}/package.json: "keywords" must be a list of lowercase words, "mem" and what the package is about, e.g. ["mem", "memory", "vector-store", "qdrant"]`,
    ).toBe(true);
  });

  it('depends on workspace packages with workspace:^, so packing writes the version being packed', () => {
    for (const field of ['dependencies', 'devDependencies', 'peerDependencies', 'optionalDependencies'] as const) {
      for (const [dependency, range] of Object.entries(manifest[field] ?? {})) {
        if (!dependency.startsWith('@mem/')) continue;
        expect(range, `${directory}/package.json: ${field}["${dependency}"]`).toBe('workspace:^');
      }
    }
  });
});

describe.each(publicPackages().map((entry) => [entry.manifest.name, entry] as const))('public %s', (_name, {
  folder,
  directory,
  manifest,
}) => {
  it('ships the LICENSE (a copy of the root one) and a README', () => {
    const file = join(folder, 'LICENSE');
    expect(existsSync(file) && readFileSync(file, 'utf8') === license, `${directory}/LICENSE: run cp LICENSE ${directory}/LICENSE`).toBe(
      true,
    );
    expect(existsSync(join(folder, 'README.md')), `${directory}/README.md is missing`).toBe(true);
  });

  it('has a version and files, and depends on no private package', () => {
    expect(manifest.version, `${directory}/package.json: "version"`).toMatch(/^\d+\.\d+\.\d+(-[\w.]+)?$/);
    expect(manifest.files, `${directory}/package.json: "files" must list "dist"`).toContain('dist');
    const privateNames = new Set(
      workspacePackages()
        .filter((entry) => entry.manifest.private === true)
        .map((entry) => entry.manifest.name),
    );
    for (const field of ['dependencies', 'peerDependencies', 'optionalDependencies'] as const) {
      for (const dependency of Object.keys(manifest[field] ?? {})) {
        expect(privateNames.has(dependency), `${directory}: ${field}["${dependency}"] is a private package; no app can install it`).toBe(
          false,
        );
      }
    }
  });

  // The build (npm test runs it first) must have written every file `exports` names.
  it('has every file its exports name, ESM and CommonJS, each with types', () => {
    const targets = exportTargets(manifest.exports);
    expect(targets.length, `${directory}/package.json: "exports" names no file`).toBeGreaterThan(0);
    expect(targets.some((target) => target.endsWith('.cjs'))).toBe(true);
    expect(targets.some((target) => target.endsWith('.d.cts'))).toBe(true);
    for (const target of targets) expect(existsSync(join(folder, target)), `${directory}/${target}: run the build`).toBe(true);
  });

  // A published .d.ts that imports a package the app does not get breaks `tsc` in the app (TS7016,
  // or a silent `any` with skipLibCheck): @types/better-sqlite3 was a devDependency of @mem/sqlite.
  it('declares, as dependencies, every package its published .d.ts files import (and their @types)', () => {
    const runtime = { ...manifest.dependencies, ...manifest.peerDependencies };
    const needed = new Map<string, string>();
    for (const file of declarationFiles(join(folder, 'dist'))) {
      const info = ts.preProcessFile(readFileSync(file, 'utf8'), true, true);
      for (const { fileName } of info.importedFiles) {
        const name = packageName(fileName);
        if (name && name !== manifest.name) needed.set(name, file);
      }
      for (const { fileName } of info.typeReferenceDirectives) {
        // `/// <reference types="node" />`: every Node app has @types/node.
        if (fileName !== 'node') needed.set(fileName.startsWith('@types/') ? fileName : `@types/${fileName}`, file);
      }
    }
    for (const [dependency, file] of needed) {
      const where = `${file.slice(ROOT.length + 1)} imports "${dependency}"`;
      expect(runtime[dependency], `${where}: add it to "dependencies" of ${directory}/package.json`).toBeDefined();
      if (dependency.startsWith('@types/') || shipsTypes(folder, dependency)) continue;
      const types = `@types/${dependency.replace(/^@([^/]+)\//, '$1__')}`;
      expect(
        runtime[types],
        `${where}, which ships no types: add "${types}" to "dependencies" (not devDependencies) of ${directory}`,
      ).toBeDefined();
    }
  });
});

function declarationFiles(folder: string): string[] {
  if (!existsSync(folder)) return [];
  return readdirSync(folder, { withFileTypes: true, recursive: true })
    .filter((entry) => entry.isFile() && /\.d\.(ts|cts|mts)$/.test(entry.name))
    .map((entry) => join(entry.parentPath, entry.name));
}

/** `@scope/name` or `name` of a bare specifier; undefined for relative paths and Node built-ins. */
function packageName(specifier: string): string | undefined {
  if (specifier.startsWith('.') || specifier.startsWith('/') || specifier.startsWith('node:')) return undefined;
  const parts = specifier.split('/');
  const name = specifier.startsWith('@') ? parts.slice(0, 2).join('/') : parts[0]!;
  return builtinModules.includes(name) ? undefined : name;
}

/** Whether the installed dependency carries its own declarations (types/typings, a types condition, or index.d.ts). */
function shipsTypes(folder: string, dependency: string): boolean {
  let directory = folder;
  for (;;) {
    const candidate = join(directory, 'node_modules', dependency);
    if (existsSync(join(candidate, 'package.json'))) {
      const manifest = readJson<{ types?: string; typings?: string; exports?: unknown }>(join(candidate, 'package.json'));
      return Boolean(
        manifest.types ||
          manifest.typings ||
          JSON.stringify(manifest.exports ?? {}).includes('"types"') ||
          existsSync(join(candidate, 'index.d.ts')),
      );
    }
    if (dirname(directory) === directory) return false;
    directory = dirname(directory);
  }
}
