import { defineConfig } from 'vitest/config';

// `npm run test:prometheus`: the rule files under promtool and the service under a real Prometheus. Kept out of
// `npm test`, which must pass on a machine without Prometheus; .ci/run installs it and runs this.
export default defineConfig({
  test: {
    include: ['tests/monitoring/**/*.integration.ts'],
    globalSetup: ['tests/global-setup.ts'],
    testTimeout: 180_000,
    hookTimeout: 120_000,
  },
});
