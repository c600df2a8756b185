import { defineConfig } from 'vitest/config';

// Three projects in one config, so `npm test` runs them all in one vitest run with one summary, and `--project unit`
// (`npm run test:unit`) runs the in-process tests alone. vitest runs a project's global setup only when that project
// has tests to run, so the unit run never starts a service; the integration project (the storage adapters against
// the contract suite in test/contract) starts only Azurite; the e2e project starts Azurite, the Face emulator and
// the dev OIDC issuer.
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
        // One module graph for all in-process test files (isolate: false): importing zod, the SDKs and the app once
        // instead of once per file is most of what keeps `npm run test:unit` within a few seconds. The files do not
        // depend on their order (checked with --sequence.shuffle); the setup file installs the Functions seam first.
        test: {
          name: 'unit', include: ['test/unit/**/*.test.ts'], testTimeout: 10_000, isolate: false, setupFiles: ['./test/setup/unit-setup.ts'],
        },
      },
      {
        extends: true,
        test: { name: 'integration', include: ['test/integration/**/*.test.ts'], globalSetup: ['./test/setup/azurite-setup.ts'] },
      },
      {
        extends: true,
        test: { name: 'e2e', include: ['test/e2e/**/*.test.ts'], globalSetup: ['./test/setup/global-setup.ts'] },
      },
    ],
  },
});
