import { defineConfig } from 'vitest/config';

export default defineConfig({
  test: {
    include: ['test/**/*.test.ts'],
    globalSetup: ['./test/setup/global-setup.ts'],
    testTimeout: 60_000,
    hookTimeout: 60_000,
    // Integration suites share one Azurite and one emulator; two workers keep the 2-core machines responsive.
    maxWorkers: 2,
    reporters: ['default'],
  },
});
