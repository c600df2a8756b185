// Fakes for in-process tests of the core and the HTTP handlers. Start with `fakeWorld()` (test/fakes/world.ts).
export * from './clock.js';
export * from './face.js';
export * from './hooks.js';
export * from './observability.js';
export * from './records.js';
export * from './session-repository.js';
export * from './stores.js';
export { MemorySubjects } from './subjects-memory.js';
export * from './webhooks.js';
export * from './world.js';
export * from './scenarios.js';
