import { defineConfig } from 'vitest/config';

// Compiling the provider's OpenAPI spec for the emulator takes seconds on a busy machine.
export default defineConfig({ test: { include: ['src/**/*.test.ts'], testTimeout: 30_000, hookTimeout: 30_000 } });
