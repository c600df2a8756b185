// Lint: typescript-eslint's recommended rules, plus the architecture rule that keeps the domain core free of Azure.
import js from '@eslint/js';
import tseslint from 'typescript-eslint';

export default tseslint.config(
  { ignores: ['dist/**', 'node_modules/**', '.azurite/**', 'coverage/**', 'test/fixtures/devhost-app/**'] },
  js.configs.recommended,
  ...tseslint.configs.recommended,
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
      '@typescript-eslint/no-restricted-imports': ['error', {
        patterns: [
          { group: ['@azure/*', '@azure-rest/*', '@opentelemetry/*'], message: 'The domain core imports nothing from Azure: use a port in src/core/ports.ts.' },
          { group: ['node:http', 'node:https', '../adapters/**', '../functions/**', '../composition*', '../shared/**', '../telemetry/**', '../openapi/**', '../contract/**', '**/dev/**'], message: 'The core depends on ports, not on adapters, the HTTP edge, hosts, config or dev tools.' },
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
);
