import { createHash, randomBytes } from 'node:crypto';
import { existsSync, readFileSync } from 'node:fs';
import { chmod, rename, writeFile } from 'node:fs/promises';
import { dirname, extname, join } from 'node:path';
import { SCOPE_FIELDS, type Environment, type ScopeField } from '@mem/core/adapter';
import { InvalidInputError, type Scope } from '@mem/core';
import { parse as parseYaml, stringify as stringifyYaml } from 'yaml';
import { HttpError } from './http-errors';
import { KEY_ID_PATTERN } from './schemas';

/** The values of one scope field a key may use: a list, or `'*'` for any. */
export type Allowed = '*' | readonly string[];

/** One API key as the server keeps it: only the SHA-256 hash of the secret. */
export interface ApiKey {
  /** Public name; the only thing logs say about a key. */
  readonly id: string;
  /** `sha256:<hex>` of the secret. */
  readonly hash: string;
  readonly userIds: Allowed;
  readonly agentIds: Allowed;
  readonly runIds: Allowed;
  /** May reset the store and manage keys. */
  readonly admin: boolean;
  /** Where it was defined: the keys file, the environment (not revocable through the API), or the API (kept in memory when there is no keys file). */
  readonly source: 'file' | 'env' | 'api';
  readonly createdAt: Date;
}

/** A key given in plain text (`MEM_API_KEYS`, tests); hashed at once. */
export interface PlainKeyDefinition {
  readonly id: string;
  readonly key: string;
  readonly userIds?: Allowed;
  readonly agentIds?: Allowed;
  readonly runIds?: Allowed;
  readonly admin?: boolean;
}

const PLURAL: Record<ScopeField, 'userIds' | 'agentIds' | 'runIds'> = { userId: 'userIds', agentId: 'agentIds', runId: 'runIds' };
const KEY_ID = new RegExp(KEY_ID_PATTERN);
const HASH = /^sha256:[0-9a-f]{64}$/;
/** Plain keys shorter than this are refused: API keys must not be guessable. */
export const MIN_KEY_LENGTH = 16;

/** `sha256:<hex>` of a key. Keys are long random strings, so a fast hash is enough (no password stretching). */
export function hashKey(secret: string): string {
  return `sha256:${createHash('sha256').update(secret, 'utf8').digest('hex')}`;
}

/** A new random key: `mem_` and 43 characters of base64url (256 bits). */
export function generateKey(): string {
  return `mem_${randomBytes(32).toString('base64url')}`;
}

/**
 * The API keys of a server: from a keys file (hashes only; key management writes to it),
 * from `MEM_API_KEYS` (a JSON array of `{ id, key, userIds?, agentIds?, runIds?, admin? }`) and
 * `MEM_ADMIN_KEY`. Secrets are hashed on load and never kept.
 */
export class ApiKeyStore {
  private readonly byHash = new Map<string, ApiKey>();
  private readonly byId = new Map<string, ApiKey>();
  private readonly file: string | undefined;
  private writing: Promise<void> = Promise.resolve();

  private constructor(file: string | undefined) {
    this.file = file;
  }

  /**
   * Loads the keys.
   * @param options.file - the keys file (JSON when it ends in `.json`, else YAML); a missing file starts empty and is created on the first write
   * @param options.keys - plain keys (hashed here)
   * @throws {InvalidInputError} naming the entry (`MEM_KEYS_FILE: keys[2].userIds`) when a key is malformed or an id repeats.
   */
  static load(options: { file?: string; keys?: readonly PlainKeyDefinition[]; source?: 'env' | 'api' } = {}): ApiKeyStore {
    const store = new ApiKeyStore(options.file);
    if (options.file && existsSync(options.file)) {
      for (const key of readKeysFile(options.file)) store.insert(key, `MEM_KEYS_FILE: keys`);
    }
    (options.keys ?? []).forEach((definition, index) => {
      const field = `MEM_API_KEYS[${index}]`;
      if (typeof definition?.key !== 'string' || definition.key.length < MIN_KEY_LENGTH) {
        throw new InvalidInputError(
          `${field}.key`,
          `expected a string of at least ${MIN_KEY_LENGTH} characters`,
          'Use a long random key, e.g. from `mem keys create` or `openssl rand -base64 32`.',
        );
      }
      store.insert(
        parseKey(
          { ...definition, hash: hashKey(definition.key), source: options.source ?? 'env', createdAt: new Date(0).toISOString() },
          field,
        ),
        'MEM_API_KEYS',
      );
    });
    return store;
  }

  /** Reads `MEM_API_KEYS` and `MEM_ADMIN_KEY` from an environment. */
  static definitionsFromEnvironment(env: Environment): PlainKeyDefinition[] {
    const definitions: PlainKeyDefinition[] = [];
    const json = env['MEM_API_KEYS']?.trim();
    if (json) {
      let parsed: unknown;
      try {
        parsed = JSON.parse(json);
      } catch {
        throw new InvalidInputError(
          'MEM_API_KEYS',
          'is not valid JSON',
          'Set it to a JSON array such as [{"id":"alice-app","key":"…","userIds":["alice"]}].',
        );
      }
      if (!Array.isArray(parsed))
        throw new InvalidInputError(
          'MEM_API_KEYS',
          'is not a JSON array',
          'Set it to a JSON array of { id, key, userIds?, agentIds?, runIds?, admin? }.',
        );
      definitions.push(...(parsed as PlainKeyDefinition[]));
    }
    const admin = env['MEM_ADMIN_KEY']?.trim();
    if (admin) definitions.push({ id: 'admin', key: admin, admin: true, userIds: '*', agentIds: '*', runIds: '*' });
    return definitions;
  }

  /** Whether any key is defined. */
  get size(): number {
    return this.byId.size;
  }

  /** The key whose secret this is, or `undefined`. */
  authenticate(secret: string): ApiKey | undefined {
    return this.byHash.get(hashKey(secret));
  }

  /** Every key (never a secret or hash). */
  list(): ApiKey[] {
    return [...this.byId.values()].sort((a, b) => a.id.localeCompare(b.id));
  }

  /**
   * Creates a key, persisted to the keys file when there is one.
   * @returns the secret (shown once) and whether it was written to the file.
   * @throws {HttpError} 409 CONFLICT when the id is taken.
   */
  async create(request: {
    id: string;
    userIds?: Allowed;
    agentIds?: Allowed;
    runIds?: Allowed;
    admin?: boolean;
  }): Promise<{ key: string; info: ApiKey; persisted: boolean }> {
    if (this.byId.has(request.id))
      throw new HttpError(409, 'CONFLICT', `A key with id "${request.id}" exists. Pick another id, or revoke that key first.`, {
        field: 'id',
      });
    const secret = generateKey();
    const info = parseKey(
      { ...request, hash: hashKey(secret), source: this.file ? 'file' : 'api', createdAt: new Date().toISOString() },
      'body',
    );
    this.insert(info, 'body');
    try {
      await this.persist();
    } catch (error) {
      this.remove(info);
      throw error;
    }
    return { key: secret, info, persisted: this.file !== undefined };
  }

  /**
   * Revokes a key at once.
   * @throws {HttpError} 404 when no key has this id, 409 when it comes from the environment.
   */
  async revoke(id: string): Promise<void> {
    const key = this.byId.get(id);
    if (!key) throw new HttpError(404, 'NOT_FOUND', `No key with id "${id}" exists.`, { field: 'id' });
    if (key.source === 'env') {
      throw new HttpError(409, 'CONFLICT', `The key "${id}" is defined by MEM_API_KEYS or MEM_ADMIN_KEY; remove it there and restart.`, {
        field: 'id',
      });
    }
    this.remove(key);
    try {
      await this.persist();
    } catch (error) {
      this.insert(key, 'revoke');
      throw error;
    }
  }

  private insert(key: ApiKey, where: string): void {
    if (this.byId.has(key.id))
      throw new InvalidInputError(`${where}: ${key.id}`, 'the key id is defined twice', 'Give every key its own id.');
    if (this.byHash.has(key.hash))
      throw new InvalidInputError(`${where}: ${key.id}`, 'the same secret is used by two keys', 'Give every key its own secret.');
    this.byId.set(key.id, key);
    this.byHash.set(key.hash, key);
  }

  private remove(key: ApiKey): void {
    this.byId.delete(key.id);
    this.byHash.delete(key.hash);
  }

  /** Writes the file-backed keys, one write at a time, atomically (temp file + rename), readable by the owner only. */
  private persist(): Promise<void> {
    const file = this.file;
    if (!file) return Promise.resolve();
    const keys = this.list().filter((key) => key.source === 'file');
    const next = this.writing.then(() => writeKeysFile(file, keys));
    this.writing = next.catch(() => undefined);
    return next;
  }
}

/** Reads a keys file: `{ keys: [{ id, hash, userIds, agentIds, runIds, admin, createdAt }] }`. */
export function readKeysFile(file: string): ApiKey[] {
  const text = readFileSync(file, 'utf8');
  let parsed: unknown;
  try {
    parsed = extname(file).toLowerCase() === '.json' ? JSON.parse(text) : parseYaml(text);
  } catch {
    throw new InvalidInputError(
      'MEM_KEYS_FILE',
      `${file} is not valid ${extname(file).toLowerCase() === '.json' ? 'JSON' : 'YAML'}`,
      'Fix the syntax, or delete the file to start over.',
    );
  }
  if (parsed === null || parsed === undefined) return [];
  const keys = (parsed as { keys?: unknown }).keys;
  if (typeof parsed !== 'object' || !Array.isArray(keys)) {
    throw new InvalidInputError(
      'MEM_KEYS_FILE',
      `${file} has no "keys" list`,
      'Write { "keys": [ … ] }; `mem keys create` writes entries for you.',
    );
  }
  return keys.map((entry, index) => {
    if (entry && typeof entry === 'object' && 'key' in entry) {
      throw new InvalidInputError(
        `MEM_KEYS_FILE: keys[${index}].key`,
        'the keys file holds hashes only, never a key',
        'Replace "key" with "hash": run `mem keys create`, or put plain keys in MEM_API_KEYS.',
      );
    }
    return parseKey({ ...(entry as object), source: 'file' }, `MEM_KEYS_FILE: keys[${index}]`);
  });
}

/** Writes a keys file atomically, mode 0600. */
export async function writeKeysFile(file: string, keys: readonly ApiKey[]): Promise<void> {
  const entries = keys.map((key) => ({
    id: key.id,
    hash: key.hash,
    userIds: key.userIds,
    agentIds: key.agentIds,
    runIds: key.runIds,
    admin: key.admin,
    createdAt: key.createdAt.toISOString(),
  }));
  const text =
    extname(file).toLowerCase() === '.json' ? `${JSON.stringify({ keys: entries }, null, 2)}\n` : stringifyYaml({ keys: entries });
  const temporary = join(dirname(file), `.${Date.now()}-${randomBytes(4).toString('hex')}.keys.tmp`);
  await writeFile(temporary, text, { mode: 0o600 });
  await chmod(temporary, 0o600);
  await rename(temporary, file);
}

function parseKey(input: Record<string, unknown>, field: string): ApiKey {
  const id = input.id;
  if (typeof id !== 'string' || !KEY_ID.test(id)) {
    throw new InvalidInputError(
      `${field}.id`,
      'expected 1-64 letters, digits, "_", "-" or "." starting with a letter or digit',
      'Name the key, e.g. "alice-app".',
    );
  }
  if (typeof input.hash !== 'string' || !HASH.test(input.hash)) {
    throw new InvalidInputError(`${field}.hash`, 'expected "sha256:" and 64 hex digits', 'Create entries with `mem keys create`.');
  }
  const allowed = (name: 'userIds' | 'agentIds' | 'runIds'): Allowed => {
    const value = input[name];
    if (value === undefined || value === '*') return '*';
    if (!Array.isArray(value) || value.length === 0 || !value.every((item) => typeof item === 'string' && item.length > 0)) {
      throw new InvalidInputError(`${field}.${name}`, 'expected "*" or a non-empty list of ids', `Write e.g. ${name}: ["alice"].`);
    }
    return Object.freeze([...(value as string[])]);
  };
  const createdAt = new Date(typeof input.createdAt === 'string' ? input.createdAt : 0);
  if (Number.isNaN(createdAt.getTime()))
    throw new InvalidInputError(`${field}.createdAt`, 'expected an ISO 8601 date', 'Leave it out or write e.g. 2024-05-01T00:00:00Z.');
  if (input.admin !== undefined && typeof input.admin !== 'boolean')
    throw new InvalidInputError(`${field}.admin`, 'expected true or false', 'Leave it out for false.');
  const source = input.source === 'env' || input.source === 'api' ? input.source : 'file';
  return Object.freeze({
    id,
    hash: input.hash,
    userIds: allowed('userIds'),
    agentIds: allowed('agentIds'),
    runIds: allowed('runIds'),
    admin: input.admin === true,
    source,
    createdAt,
  });
}

/**
 * The scope a request may use with this key. Ids the key pins to a single value are filled in when
 * left out; every field the key restricts must then be set to an allowed value. Scopes match by
 * containment (`{ agentId: 'a' }` sees every user's memories of agent `a`), so a restricted field
 * left unset would widen the request past the key: it is refused.
 *
 * @throws {HttpError} 403 FORBIDDEN naming the field.
 */
export function authorizeScope(key: ApiKey, requested: Scope | undefined, fieldPrefix = 'scope.'): Scope {
  const scope: { userId?: string; agentId?: string; runId?: string } = {};
  for (const field of SCOPE_FIELDS) {
    const value = requested?.[field];
    if (value !== undefined) scope[field] = value;
  }
  for (const field of SCOPE_FIELDS) {
    const allowed = key[PLURAL[field]];
    if (allowed === '*') continue;
    if (scope[field] === undefined) {
      if (allowed.length === 1) {
        scope[field] = allowed[0]!;
        continue;
      }
      throw new HttpError(403, 'FORBIDDEN', `This API key is bound to specific ${field}s: set ${fieldPrefix}${field} to one of them.`, {
        field: `${fieldPrefix}${field}`,
      });
    }
    if (!allowed.includes(scope[field]!)) {
      throw new HttpError(403, 'FORBIDDEN', `This API key may not use this ${field}. Use a ${field} the key is bound to, or another key.`, {
        field: `${fieldPrefix}${field}`,
      });
    }
  }
  return scope;
}
