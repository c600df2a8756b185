// vitest global setup of the integration project: starts only Azurite (in memory, through dev/stack.ts, as the e2e
// setup does) on free ports and hands its connection string to the tests; the adapters under test need nothing else.
import type { TestProject } from 'vitest/node';
import { startAzurite, type RunningAzurite } from '../../dev/stack.js';

let azurite: RunningAzurite | undefined;

export async function setup(project: TestProject): Promise<void> {
  azurite = await startAzurite();
  project.provide('storageConnectionString', azurite.connectionString);
}

export async function teardown(): Promise<void> {
  await azurite?.stop();
}

declare module 'vitest' {
  export interface ProvidedContext {
    storageConnectionString: string;
  }
}
