import { defineConfig } from 'vitest/config';

export default defineConfig({
  test: {
    include: ['{lib,training,functions,tests,bench}/**/*.test.ts'],
    globalSetup: ['tests/global-setup.ts'],
    // Some tests spawn real processes (training, the server); they measure behaviour, never time.
    testTimeout: 120_000,
    hookTimeout: 60_000,
  },
});
