// The HTTP contract in one place: the zod schemas the handlers parse requests with and the OpenAPI document is
// generated from (src/openapi/document.ts). Change a request or response here and both follow.
export * from './enums.js';
export * from './parse.js';
export * from './requests.js';
export * from './responses.js';
export * from './webhooks.js';
export * from './queues.js';
