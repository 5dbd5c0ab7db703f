import { existsSync, readdirSync, readFileSync } from 'node:fs';
import { dirname, join, relative, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';

/** The repository root. */
export const ROOT = resolve(dirname(fileURLToPath(import.meta.url)), '../../..');

/** The parts of a package.json these checks read. */
export interface Manifest {
  readonly name: string;
  readonly version?: string;
  readonly private?: boolean;
  readonly license?: string;
  readonly repository?: unknown;
  readonly homepage?: unknown;
  readonly bugs?: unknown;
  readonly keywords?: unknown;
  readonly engines?: unknown;
  readonly exports?: unknown;
  readonly files?: readonly string[];
  readonly dependencies?: Readonly<Record<string, string>>;
  readonly devDependencies?: Readonly<Record<string, string>>;
  readonly peerDependencies?: Readonly<Record<string, string>>;
  readonly optionalDependencies?: Readonly<Record<string, string>>;
}

/** One package of the workspace. */
export interface WorkspacePackage {
  /** Absolute folder. */
  readonly folder: string;
  /** Folder relative to the root, with forward slashes: `packages/core`. */
  readonly directory: string;
  readonly manifest: Manifest;
}

export function readJson<T>(file: string): T {
  return JSON.parse(readFileSync(file, 'utf8')) as T;
}

/**
 * Every package of the workspace, from the `packages:` globs of pnpm-workspace.yaml (`folder/*`
 * forms; scripts/pack.mjs reads them the same way), sorted by folder.
 */
export function workspacePackages(): WorkspacePackage[] {
  const yaml = readFileSync(join(ROOT, 'pnpm-workspace.yaml'), 'utf8');
  const block = /^packages:\s*\n((?:\s+-.*\n?)+)/m.exec(yaml);
  if (!block) throw new Error('pnpm-workspace.yaml has no packages: list');
  const globs = [...block[1]!.matchAll(/-\s*["']?([^"'\n]+?)["']?\s*$/gm)].map((match) => match[1]!);
  return globs
    .flatMap((glob) => {
      if (!glob.endsWith('/*')) throw new Error(`pnpm-workspace.yaml: only "folder/*" globs are understood, got ${glob}`);
      const parent = join(ROOT, glob.slice(0, -2));
      return readdirSync(parent)
        .map((name) => join(parent, name))
        .filter((folder) => existsSync(join(folder, 'package.json')));
    })
    .map((folder) => ({
      folder,
      directory: relative(ROOT, folder).split('\\').join('/'),
      manifest: readJson<Manifest>(join(folder, 'package.json')),
    }))
    .sort((a, b) => a.directory.localeCompare(b.directory));
}

/** The packages an app can install: those without `"private": true`. */
export function publicPackages(): WorkspacePackage[] {
  return workspacePackages().filter((entry) => entry.manifest.private !== true);
}

/** The subpaths of an `exports` map that are code (not `./package.json`): `.`, `./adapter`, … */
export function exportedSubpaths(exports: unknown): string[] {
  if (typeof exports !== 'object' || exports === null) return ['.'];
  const keys = Object.keys(exports);
  if (!keys.every((key) => key.startsWith('.'))) return ['.'];
  return keys.filter((key) => !key.endsWith('package.json'));
}

/** Every file an `exports` map points at. */
export function exportTargets(exports: unknown): string[] {
  if (typeof exports === 'string') return exports.endsWith('package.json') ? [] : [exports];
  if (typeof exports !== 'object' || exports === null) return [];
  return Object.values(exports).flatMap((value) => exportTargets(value));
}
