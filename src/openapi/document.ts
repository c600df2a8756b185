// Generates the OpenAPI 3.1 description of the app's HTTP API with zod-openapi (which renders each zod schema with
// zod 4's own JSON Schema output and assembles parameters, headers and components). The paths are derived: each row
// of the operation table (src/operations.ts: route, method, auth) joined with its contract under the same id
// (src/contract/operations.ts: parameters, bodies, answers by status). What follows from an operation's auth is
// added here: the security scheme, the 401/403 answers, and for the back office its Entra ID twin under /backoffice.
// Only document-level matter is written here besides: info, servers, tags, security schemes and the webhooks.
// `npm run build` writes the result to dist/src/openapi/openapi.json (src/openapi/generate.ts), which
// GET /api/openapi.json serves; nothing here runs in the function app itself.
import { z } from 'zod';
import { createDocument, type ZodOpenApiOperationObject, type ZodOpenApiPathsObject } from 'zod-openapi';
import {
  reviewSettledEventSchema, sessionDecidedEventSchema, sessionErasedEventSchema, sessionExpiredEventSchema,
  subjectErasedEventSchema, webhookRequestHeadersSchema,
} from '../contract/index.js';
import { BACKOFFICE_ROLE_NOTE, VERIFICATIONS_ROLE_NOTE, json, OPERATION_CONTRACTS, ref, RESPONSE_COMPONENTS, type OperationContract } from '../contract/operations.js';
import { BACKOFFICE_PREFIX, ENTRA_ID_SUFFIX, OPERATIONS, type OperationRoute } from '../operations.js';

type Json = null | boolean | number | string | Json[] | { [key: string]: Json };
export type OpenApiDocument = { [key: string]: Json };

const ADMIN_KEY_NOTE = ' Authorized by the Functions admin (master) key in the x-functions-key header, for local runs: the '
  + 'key is refused in the URL (?code=, 401) and BACKOFFICE_ADMIN_KEY_ENABLED=false (as in Azure) turns it off (403). In '
  + 'Azure, use the /backoffice route with Entra ID.';

/** The documented operations of one row of the table: one, or for the back office two (admin key and Entra ID). */
function documented(id: string, row: OperationRoute, contract: OperationContract): Array<[path: string, operation: ZodOpenApiOperationObject]> {
  const { tag, summary, description, responses, ...request } = contract;
  const operation = (extra: Pick<ZodOpenApiOperationObject, 'operationId' | 'summary' | 'description' | 'security'>, authResponses: ZodOpenApiOperationObject['responses']) => ({
    ...extra, tags: [tag], ...request, responses: { ...responses, ...authResponses },
  });
  const path = `/${row.route}`;
  const failures = { 500: ref('InternalError'), 503: ref('ServiceUnavailable') };
  switch (row.auth) {
    case 'anonymous':
      return [[path, operation({ operationId: id, summary, description, security: [] }, {})]];
    case 'device':
      return [[path, operation({ operationId: id, summary, description, security: [{ deviceBearer: [] }] }, { 401: ref('DeviceUnauthorized'), ...failures })]];
    case 'relyingParty':
      return [[path, operation({
        operationId: id, summary,
        description: `${description} Authorized by an Entra ID bearer token of the relying party's app with the app role. ${VERIFICATIONS_ROLE_NOTE}`,
        security: [{ relyingPartyBearer: ['Verifications.Create'] }],
      }, { 401: ref('RelyingPartyUnauthorized'), 403: ref('RelyingPartyForbidden'), ...failures })]];
    case 'backOffice':
      return [
        [path, operation({ operationId: id, summary, description: description + ADMIN_KEY_NOTE, security: [{ functionsKeyHeader: [] }] }, {
          401: ref('FunctionsKeyUnauthorized'), ...failures,
        })],
        [`/${BACKOFFICE_PREFIX}${row.route}`, operation({
          operationId: `${id}${ENTRA_ID_SUFFIX}`,
          summary: `${summary} (Entra ID)`,
          description: `${description} Authorized by an Entra ID bearer token with the back-office app role. ${BACKOFFICE_ROLE_NOTE}`,
          security: [{ backOfficeBearer: ['LivenessSessions.Manage'] }],
        }, { 401: ref('BackOfficeUnauthorized'), 403: ref('BackOfficeForbidden'), ...failures })],
      ];
  }
}

/**
 * The paths of the document, from the operation table and the operation contracts (parameters for the tests: a row
 * without a contract, or a contract without a row, is refused).
 */
export function documentPaths(
  operations: Record<string, OperationRoute> = OPERATIONS,
  contracts: Partial<Record<string, OperationContract>> = OPERATION_CONTRACTS,
): ZodOpenApiPathsObject {
  const paths: ZodOpenApiPathsObject = {};
  for (const [id, row] of Object.entries(operations)) {
    const contract = contracts[id];
    if (!contract) throw new Error(`operation ${id} has a row in src/operations.ts but no contract in src/contract/operations.ts`);
    for (const [path, operation] of documented(id, row, contract)) {
      const methods = (paths[path] ??= {}) as Record<string, ZodOpenApiOperationObject>;
      const method = row.method.toLowerCase();
      if (methods[method]) throw new Error(`${row.method} ${path} is in the operation table twice`);
      methods[method] = operation;
    }
  }
  for (const id of Object.keys(contracts)) {
    if (!(id in operations)) throw new Error(`operation ${id} has a contract but no row in the operation table`);
  }
  return paths;
}

const webhookDescription = 'Sent to WEBHOOK_URL as a Standard Webhooks delivery (https://www.standardwebhooks.com): '
  + 'a JSON body signed with HMAC-SHA256 under the shared whsec_ secret (headers webhook-id, webhook-timestamp, '
  + 'webhook-signature). Verify with a standardwebhooks library over the raw body before parsing it. Answer 2xx within '
  + 'WEBHOOK_TIMEOUT_MS (10 s) to acknowledge; anything else (a redirect included: they are not followed) is retried '
  + 'with exponential backoff for WEBHOOK_RETRY_WINDOW_SECONDS (24 h), then dead-lettered for the back office. '
  + 'Delivery is at least once: the same event may arrive twice with the same webhook-id; drop copies by id.';

const webhook = (name: string, summary: string, schema: z.ZodType): ZodOpenApiOperationObject => ({
  operationId: name,
  tags: ['webhooks'],
  summary,
  description: webhookDescription,
  security: [],
  requestParams: { header: webhookRequestHeadersSchema },
  requestBody: { required: true, content: json(schema) },
  responses: {
    '2XX': { description: 'Received (the body of the answer is ignored and never logged).' },
    default: { description: 'Not received: the delivery is tried again later.' },
  },
});

// OpenAPI 3.1's info.summary is missing from zod-openapi's InfoObject type; a variable passes it through unchanged.
const info = {
  title: 'Face liveness functions',
  version: '0.1.0',
  summary: 'Azure AI Face liveness detection with face verification, as an app server for devices and a back office.',
  description: 'Flow: the device reads the consent text (GET /privacy), then starts a session with the consent version '
    + 'and, unless the back office enrolled a reference for the user, a verify image (POST /liveness-sessions), and gets a Face '
    + 'session token; it runs the Face liveness client SDK with that token; it reports completion (POST '
    + '/liveness-sessions/{sessionId}/complete) and polls its outcome (GET .../status). The back office reads, lists, '
    + 'audits and deletes sessions and reads their images, with the Functions admin key or, under /backoffice, an Entra ID token.\n\n'
    + 'Every error is `{"error": {"code", "message"}}` with the status below.',
};

const SAFE_INTEGER_BOUNDS = new Set([Number.MAX_SAFE_INTEGER, Number.MIN_SAFE_INTEGER]);

/** Builds the document. Deterministic: the same schemas give the same JSON. */
export function createOpenApiDocument(): OpenApiDocument {
  const document = createDocument({
    openapi: '3.1.0',
    info,
    servers: [{ url: '/api', description: 'The Functions route prefix, on the app\'s own host.' }],
    tags: [
      { name: 'device', description: 'Called by the device app with its bearer token.' },
      { name: 'back office', description: 'Called by staff tooling: Functions admin key, or Entra ID under /backoffice.' },
      { name: 'operations', description: 'Health and API description.' },
      { name: 'evidence', description: 'The public keys of the tamper-evident evidence log (README: Evidence).' },
      { name: 'device attestation', description: "Microsoft's device-attestation protocol: the attested app's key, not a bearer, is the credential." },
      { name: 'relying party', description: "Called by a relying party's back end (Entra ID app role): verifications by link." },
      { name: 'webhooks', description: 'Events this app sends to the relying party\'s receiver (WEBHOOK_URL).' },
    ],
    paths: documentPaths(),
    webhooks: {
      'liveness.session.decided': { post: webhook('livenessSessionDecided', 'A session was decided', sessionDecidedEventSchema) },
      'liveness.review.settled': { post: webhook('livenessReviewSettled', 'A review was settled', reviewSettledEventSchema) },
      'liveness.session.expired': { post: webhook('livenessSessionExpired', 'A session ended without a result', sessionExpiredEventSchema) },
      'liveness.session.erased': { post: webhook('livenessSessionErased', 'A session was erased', sessionErasedEventSchema) },
      'liveness.subject.erased': { post: webhook('livenessSubjectErased', 'A subject was erased', subjectErasedEventSchema) },
    },
    components: {
      responses: RESPONSE_COMPONENTS,
      securitySchemes: {
        deviceBearer: {
          type: 'http',
          scheme: 'bearer',
          bearerFormat: 'JWT',
          description: "A JWT from the device identity provider (DEVICE_AUTH_ISSUER) for this API's audience "
            + '(DEVICE_AUTH_AUDIENCE). Its subject owns the sessions it creates; other subjects get 404. Or a verification '
            + "link's access token (`vla_…`, from POST /verification-links/exchange): the caller is then the verification's "
            + 'person, limited to the one session of that verification, which verifies against its reference.',
        },
        functionsKeyHeader: {
          type: 'apiKey',
          in: 'header',
          name: 'x-functions-key',
          description: 'The Function app\'s admin (master) key; checked by the Functions host.',
        },
        backOfficeBearer: {
          type: 'http',
          scheme: 'bearer',
          bearerFormat: 'JWT',
          description: `An Entra ID access token (BACKOFFICE_AUTH_ISSUER, BACKOFFICE_AUTH_AUDIENCE) carrying the back-office `
            + `app role in its roles claim. ${BACKOFFICE_ROLE_NOTE}`,
        },
        relyingPartyBearer: {
          type: 'http',
          scheme: 'bearer',
          bearerFormat: 'JWT',
          description: "An Entra ID access token of the relying party's app (client credentials; same issuer and audience as "
            + `the back office: BACKOFFICE_AUTH_ISSUER, BACKOFFICE_AUTH_AUDIENCE) carrying the app role. ${VERIFICATIONS_ROLE_NOTE} `
            + "A verification belongs to the app that created it (the token's azp/appid claim, else sub).",
        },
      },
    },
  }, {
    // Rendering rules, not schemas: a format already says what zod's long regex for it says, and zod's implicit
    // safe-integer bounds on z.int() are not a limit of this API.
    override: ({ jsonSchema }) => {
      const schema = jsonSchema as Record<string, unknown>;
      if (schema.format === 'date-time' || schema.format === 'uuid') delete schema.pattern;
      for (const key of ['minimum', 'maximum'] as const) {
        if (typeof schema[key] === 'number' && SAFE_INTEGER_BOUNDS.has(schema[key])) delete schema[key];
      }
    },
  });
  // OpenAPI 3.1's jsonSchemaDialect is missing from zod-openapi's input type; it goes right after `openapi`.
  const { openapi: version, ...rest } = JSON.parse(JSON.stringify(document)) as OpenApiDocument;
  return { openapi: version!, jsonSchemaDialect: 'https://spec.openapis.org/oas/3.1/dialect/base', ...rest };
}
