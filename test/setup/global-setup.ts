// vitest global setup of the e2e project: starts Azurite (in memory, through dev/stack.ts like `npm start` and the
// bench), the Face emulator and a dev OIDC issuer (in this process) on free ports, hands their addresses to the tests
// through provide/inject, and stops them afterwards. Free ports keep tests apart from a running `npm start`.
import type { TestProject } from 'vitest/node';
import { startAzurite, type RunningAzurite } from '../../dev/stack.js';
import { startFaceEmulator, type RunningFaceEmulator } from '../../dev/face-emulator/server.js';
import { startDevIssuer, type RunningDevIssuer } from '../../dev/oidc-issuer/issuer.js';

export const TEST_FACE_KEY = 'test-face-key';

let azurite: RunningAzurite | undefined;
let emulator: RunningFaceEmulator | undefined;
let issuer: RunningDevIssuer | undefined;

export async function setup(project: TestProject): Promise<void> {
  const t0 = Date.now();
  azurite = await startAzurite();
  emulator = await startFaceEmulator({ port: 0, apiKey: TEST_FACE_KEY });
  issuer = await startDevIssuer({ port: 0 });
  console.log(`[global-setup] Azurite ${JSON.stringify(azurite.ports)} and Face emulator ${emulator.url} up in ${Date.now() - t0} ms`);
  project.provide('storageConnectionString', azurite.connectionString);
  project.provide('faceEndpoint', emulator.url);
  project.provide('faceApiKey', TEST_FACE_KEY);
  project.provide('issuerUrl', issuer.url);
}

export async function teardown(): Promise<void> {
  await issuer?.close();
  await emulator?.close();
  await azurite?.stop();
}

declare module 'vitest' {
  export interface ProvidedContext {
    storageConnectionString: string;
    faceEndpoint: string;
    faceApiKey: string;
    issuerUrl: string;
  }
}
