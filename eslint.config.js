// Lint: typescript-eslint's recommended rules, plus the architecture rule that keeps the domain core free of Azure.
import js from '@eslint/js';
import tseslint from 'typescript-eslint';

export default tseslint.config(
  { ignores: ['dist/**', 'node_modules/**', '.azurite/**', 'coverage/**', 'test/fixtures/devhost-app/**'] },
  js.configs.recommended,
  ...tseslint.configs.recommended,
  // The type-checked set where the program is typed end to end: what ships (src/), the local tools (dev/), the bench
  // and the build scripts. The tests keep the plain recommended set: they read JSON answers as `unknown`/`any` on
  // purpose and check them with schemas, which the no-unsafe-* rules would only make noisier.
  ...tseslint.configs.recommendedTypeChecked.map((config) => ({
    ...config,
    files: ['src/**/*.ts', 'dev/**/*.ts', 'bench/**/*.ts', 'scripts/**/*.ts'],
  })),
  {
    files: ['src/**/*.ts', 'dev/**/*.ts', 'bench/**/*.ts', 'scripts/**/*.ts'],
    languageOptions: { parserOptions: { project: ['./tsconfig.json'], tsconfigRootDir: import.meta.dirname } },
    rules: {
      // An async request listener (http.createServer(async (req, res) => ...)) is how our servers are written; each
      // catches its own errors. Promises passed where a value is expected are still errors. (Set here, with the
      // type information it needs: set for every file, it stops ESLint on the .js/.mjs files.)
      '@typescript-eslint/no-misused-promises': ['error', { checksVoidReturn: { arguments: false } }],
      // Ports are Promise-returning interfaces; an implementation with nothing to wait for (a switched-off limiter,
      // an anonymous caller, a cached document) is async so that a throw inside it still becomes a rejection.
      '@typescript-eslint/require-await': 'off',
    },
  },
  // The relying parties' client (clients/typescript): shipped as source for them to copy, so type-checked rules too;
  // it is typed by tsconfig.test.json (it is not part of the function app's build).
  ...tseslint.configs.recommendedTypeChecked.map((config) => ({ ...config, files: ['clients/typescript/**/*.ts'] })),
  {
    files: ['clients/typescript/**/*.ts'],
    languageOptions: { parserOptions: { project: ['./tsconfig.test.json'], tsconfigRootDir: import.meta.dirname } },
  },
  {
    languageOptions: { globals: { process: 'readonly', console: 'readonly', Buffer: 'readonly', URL: 'readonly', fetch: 'readonly', setTimeout: 'readonly', clearTimeout: 'readonly', AbortSignal: 'readonly', FormData: 'readonly', File: 'readonly', Blob: 'readonly', Response: 'readonly', Request: 'readonly', TextEncoder: 'readonly', TextDecoder: 'readonly', performance: 'readonly', structuredClone: 'readonly', setInterval: 'readonly', clearInterval: 'readonly', URLSearchParams: 'readonly', NodeJS: 'readonly', setImmediate: 'readonly', queueMicrotask: 'readonly' } },
    rules: {
      '@typescript-eslint/no-unused-vars': ['error', { argsIgnorePattern: '^_', varsIgnorePattern: '^_' }],
      '@typescript-eslint/no-explicit-any': 'off',
      eqeqeq: ['error', 'always'],
    },
  },
  {
    // Deployable code never depends on the local-only tools (dev host, emulator, issuer): .funcignore leaves dev/ out.
    files: ['src/**/*.ts'],
    ignores: ['src/core/**'],
    rules: {
      'no-restricted-imports': ['error', {
        patterns: [{ group: ['**/dev/**', '../dev', '../../dev'], message: 'src/ is deployed; dev/ is not. Nothing in src/ may import dev/.' }],
      }],
    },
  },
  {
    files: ['src/core/**/*.ts'],
    rules: {
      // The core may state its answers in the contract's types (src/contract/types.ts, inferred from the zod
      // schemas), but loads nothing of the contract at run time.
      '@typescript-eslint/no-restricted-imports': ['error', {
        paths: [{ name: '../contract/types.js', allowTypeImports: true, message: 'The core imports only types from the contract (import type).' }],
        patterns: [
          { group: ['@azure/*', '@azure-rest/*', '@opentelemetry/*'], message: 'The domain core imports nothing from Azure: use a port in src/core/ports.ts.' },
          { group: ['node:http', 'node:https', '../adapters/**', '../functions/**', '../composition*', '../shared/**', '../telemetry/**', '../openapi/**', '../operations*', '**/dev/**'], message: 'The core depends on ports, not on adapters, the HTTP edge, hosts, config or dev tools.' },
          { group: ['../contract/**', '!../contract/types.js'], message: 'The core may import only types, and only from src/contract/types.ts.' },
          // Each setting is declared once, in src/config/config.ts; the core takes the types of what it needs from
          // there (a Pick of LivenessSettings), never the values: those arrive through LivenessDeps.
          { group: ['../config/**'], allowTypeImports: true, message: 'The core may import only types from src/config (its settings arrive through LivenessDeps).' },
        ],
      }],
      'no-restricted-globals': ['error', { name: 'process', message: 'The core reads no environment: settings arrive through LivenessDeps.' }],
    },
  },
  {
    // Adapters own their option types; the composition root maps the config onto them.
    files: ['src/adapters/**/*.ts'],
    rules: {
      'no-restricted-imports': ['error', {
        patterns: [
          { group: ['**/dev/**', '../dev', '../../dev'], message: 'src/ is deployed; dev/ is not. Nothing in src/ may import dev/.' },
          { group: ['**/config/**'], message: 'Adapters own their option types; src/composition.ts maps the config onto them.' },
          { group: ['**/functions/**', '**/composition*', '**/shared/**'], message: 'Adapters sit behind core ports: they know neither the HTTP edge nor the wiring.' },
        ],
      }],
    },
  },
  {
    // Rules in core, storage in adapters: an adapter stores the per-subject records and never applies (or re-states)
    // the lockout, quota or Idempotency-Key rules; it implements a port (core/ports.ts) and the core applies the rule.
    files: ['src/adapters/**/*.ts'],
    rules: {
      '@typescript-eslint/no-restricted-imports': ['error', {
        patterns: [{
          group: ['**/core/attempt-limits*', '**/core/quota*', '**/core/idempotency*', '**/core/subject-rows*'],
          message: 'Adapters store; the rules are the core\'s. Implement the port in core/ports.ts instead.',
        }],
      }],
    },
  },
  {
    // The fakes stand in for the adapters by implementing the same ports (held to them by test/contract); they never
    // borrow an adapter's code, and they implement storage, not rules: the core's rule modules run over them.
    files: ['test/fakes/**/*.ts'],
    rules: {
      'no-restricted-imports': ['error', {
        patterns: [{ group: ['**/src/adapters/**'], message: 'A fake implements a port from src/core/ports.ts; it may not import an adapter.' }],
      }],
    },
  },
);
