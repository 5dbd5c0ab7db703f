import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { MemError } from '@mem/core';
import { afterAll, describe, expect, it } from 'vitest';
import { ApiKeyStore, hashKey } from '../src/keys';

const dir = mkdtempSync(join(tmpdir(), 'mem-keys-test-'));
afterAll(() => rmSync(dir, { recursive: true, force: true }));

const invalid = (run: () => unknown, field: string) => {
  let caught: unknown;
  try {
    run();
  } catch (error) {
    caught = error;
  }
  expect(MemError.is(caught, 'INVALID_INPUT'), String(caught)).toBe(true);
  expect((caught as { field: string }).field).toBe(field);
};

describe('API keys from the environment and files', () => {
  it('reads MEM_API_KEYS and MEM_ADMIN_KEY, keeping only hashes', () => {
    const definitions = ApiKeyStore.definitionsFromEnvironment({
      MEM_API_KEYS: JSON.stringify([{ id: 'app', key: 'k'.repeat(32), userIds: ['u1'] }]),
      MEM_ADMIN_KEY: 'a'.repeat(32),
    });
    const store = ApiKeyStore.load({ keys: definitions });
    expect(store.authenticate('k'.repeat(32))).toMatchObject({
      id: 'app',
      userIds: ['u1'],
      agentIds: '*',
      admin: false,
      hash: hashKey('k'.repeat(32)),
    });
    expect(store.authenticate('a'.repeat(32))).toMatchObject({ id: 'admin', admin: true });
    expect(JSON.stringify(store.list())).not.toContain('k'.repeat(32));
  });

  it('refuses short keys, repeated ids, plain keys in the keys file and malformed entries, naming the entry', () => {
    invalid(() => ApiKeyStore.load({ keys: [{ id: 'short', key: 'abc' }] }), 'MEM_API_KEYS[0].key');
    invalid(
      () =>
        ApiKeyStore.load({
          keys: [
            { id: 'same', key: 'x'.repeat(20) },
            { id: 'same', key: 'y'.repeat(20) },
          ],
        }),
      'MEM_API_KEYS: same',
    );
    invalid(() => ApiKeyStore.load({ keys: [{ id: 'u', key: 'x'.repeat(20), userIds: [] }] }), 'MEM_API_KEYS[0].userIds');
    invalid(() => ApiKeyStore.definitionsFromEnvironment({ MEM_API_KEYS: '{"id":"x"}' }), 'MEM_API_KEYS');
    const file = join(dir, 'keys.json');
    writeFileSync(file, JSON.stringify({ keys: [{ id: 'plain', key: 'x'.repeat(20) }] }));
    invalid(() => ApiKeyStore.load({ file }), 'MEM_KEYS_FILE: keys[0].key');
    writeFileSync(file, JSON.stringify({ keys: [{ id: 'bad', hash: 'md5:abc' }] }));
    invalid(() => ApiKeyStore.load({ file }), 'MEM_KEYS_FILE: keys[0].hash');
  });
});
