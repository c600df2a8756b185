import { defineConfig } from 'vitest/config';

// Two projects in one config, so `npm test` runs both in one vitest run with one summary, and `--project unit`
// (`npm run test:unit`) runs the in-process tests alone. Only the e2e project has the global setup that starts
// Azurite, the Face emulator and the dev OIDC issuer: vitest runs a project's global setup only when that project
// has tests to run, so the unit run never starts a service.
export default defineConfig({
  test: {
    testTimeout: 60_000,
    hookTimeout: 60_000,
    // The e2e suites share one Azurite and one emulator; two workers keep the 2-core machines responsive.
    maxWorkers: 2,
    reporters: ['default'],
    projects: [
      {
        extends: true,
        test: { name: 'unit', include: ['test/unit/**/*.test.ts'], testTimeout: 10_000 },
      },
      {
        extends: true,
        test: { name: 'e2e', include: ['test/e2e/**/*.test.ts'], globalSetup: ['./test/setup/global-setup.ts'] },
      },
    ],
  },
});
