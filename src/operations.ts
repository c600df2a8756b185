// The operation table: every HTTP operation of the app, once. Each row names the operation (its OpenAPI
// operationId), the Functions function name, the route (under the /api prefix), the method and who may call it.
// Both the app.http registrations (src/shared/operation.ts, used by src/functions/*.ts) and the OpenAPI `paths`
// (src/openapi/document.ts) are derived from these rows, so a route or method is written nowhere else. The schemas
// of each operation (parameters, bodies, responses by status) are in src/contract/operations.ts under the same id;
// that module is zod and documentation, loaded only by the document generator and the tests, never at indexing.
//
// To add an operation: add a row here, add its contract (same id) in src/contract/operations.ts (the type checker
// refuses a row without one), and register its handler in src/functions with httpOperation('<id>', handler).
//
// This module imports nothing: the host reads it while indexing the functions, and cold start pays for every import.

/**
 * Who may call an operation:
 * - anonymous: anyone (health, the API description, the privacy notice, the evidence log's public keys, the app-link
 *   documents) or, for the device-attestation protocol, a device proving itself with its attested key (checked by the core);
 * - device: a bearer JWT from the device identity provider;
 * - backOffice: registered twice, at `route` with the Functions admin key (checked by the host) and at
 *   `backoffice/route` with an Entra ID token carrying the back-office app role (checked by the app);
 * - relyingParty: a relying party's back end: an Entra ID token (the back office's issuer and audience) carrying the
 *   app role VERIFICATIONS_AUTH_ROLE. A device token (or a link's access token) is refused with 403.
 */
export type OperationAuth = 'anonymous' | 'device' | 'backOffice' | 'relyingParty';
export type OperationMethod = 'GET' | 'POST' | 'PUT' | 'DELETE';

export interface OperationRoute {
  /** The Functions function name (the Entra ID twin of a back-office operation is `<name>-entra`). */
  name: string;
  /** The route under the /api prefix, with {parameters}. */
  route: string;
  method: OperationMethod;
  auth: OperationAuth;
}

export const OPERATIONS = {
  // Device
  createLivenessSession: { name: 'liveness-sessions-create', route: 'liveness-sessions', method: 'POST', auth: 'device' },
  completeLivenessSession: { name: 'liveness-sessions-complete', route: 'liveness-sessions/{sessionId}/complete', method: 'POST', auth: 'device' },
  getLivenessSessionStatus: { name: 'liveness-sessions-status', route: 'liveness-sessions/{sessionId}/status', method: 'GET', auth: 'device' },
  getPrivacy: { name: 'privacy', route: 'privacy', method: 'GET', auth: 'anonymous' },
  // Device attestation (Microsoft's backend_samples protocol): no bearer, the attested device key is the credential
  attestationChallenge: { name: 'attestation-challenge', route: 'attestation/challenge', method: 'POST', auth: 'anonymous' },
  attestationRegister: { name: 'attestation-register', route: 'attestation/register', method: 'POST', auth: 'anonymous' },
  attestationVerify: { name: 'attestation-verify', route: 'attestation/verify', method: 'POST', auth: 'anonymous' },
  sessionToken: { name: 'session-token', route: 'session/token', method: 'POST', auth: 'anonymous' },
  livenessDigest: { name: 'liveness-digest', route: 'liveness/digest', method: 'POST', auth: 'anonymous' },
  appleAppSiteAssociation: { name: 'well-known-aasa', route: 'well-known/apple-app-site-association', method: 'GET', auth: 'anonymous' },
  assetLinks: { name: 'well-known-assetlinks', route: 'well-known/assetlinks.json', method: 'GET', auth: 'anonymous' },
  // Relying parties: verifications (a check started for one of their users, by a single-use link)
  createVerification: { name: 'verifications-create', route: 'verifications', method: 'POST', auth: 'relyingParty' },
  getVerification: { name: 'verifications-get', route: 'verifications/{verificationId}', method: 'GET', auth: 'relyingParty' },
  cancelVerification: { name: 'verifications-cancel', route: 'verifications/{verificationId}', method: 'DELETE', auth: 'relyingParty' },
  exchangeVerificationLink: { name: 'verification-links-exchange', route: 'verification-links/exchange', method: 'POST', auth: 'anonymous' },
  // Back office: verifications
  listVerifications: { name: 'verifications-list', route: 'verifications', method: 'GET', auth: 'backOffice' },
  reissueVerificationLink: { name: 'verifications-link-reissue', route: 'verifications/{verificationId}/link', method: 'POST', auth: 'backOffice' },
  // Back office: sessions
  listLivenessSessions: { name: 'liveness-sessions-list', route: 'liveness-sessions', method: 'GET', auth: 'backOffice' },
  getLivenessSession: { name: 'liveness-sessions-get', route: 'liveness-sessions/{sessionId}', method: 'GET', auth: 'backOffice' },
  deleteLivenessSession: { name: 'liveness-sessions-delete', route: 'liveness-sessions/{sessionId}', method: 'DELETE', auth: 'backOffice' },
  listLivenessAuditEntries: { name: 'liveness-sessions-audit-entries', route: 'liveness-sessions/{sessionId}/audit-entries', method: 'GET', auth: 'backOffice' },
  getLivenessSessionVerifyImage: { name: 'liveness-sessions-verify-image', route: 'liveness-sessions/{sessionId}/verify-image', method: 'GET', auth: 'backOffice' },
  getLivenessSessionImage: { name: 'liveness-sessions-session-image', route: 'liveness-sessions/{sessionId}/session-images/{attemptId}', method: 'GET', auth: 'backOffice' },
  // Back office: reviews
  listReviewQueue: { name: 'review-queue', route: 'review-queue', method: 'GET', auth: 'backOffice' },
  settleLivenessSessionReview: { name: 'liveness-sessions-review', route: 'liveness-sessions/{sessionId}/review', method: 'POST', auth: 'backOffice' },
  // Back office: subjects
  createSubjectKey: { name: 'subject-keys', route: 'subject-keys', method: 'POST', auth: 'backOffice' },
  exportSubject: { name: 'subjects-export', route: 'subjects/{subjectKey}', method: 'GET', auth: 'backOffice' },
  eraseSubject: { name: 'subjects-erase', route: 'subjects/{subjectKey}', method: 'DELETE', auth: 'backOffice' },
  enrolSubjectReference: { name: 'subjects-reference-enrol', route: 'subjects/{subjectKey}/reference', method: 'PUT', auth: 'backOffice' },
  removeSubjectReference: { name: 'subjects-reference-remove', route: 'subjects/{subjectKey}/reference', method: 'DELETE', auth: 'backOffice' },
  promoteSubjectReference: { name: 'subjects-reference-promote', route: 'subjects/{subjectKey}/reference/promote', method: 'POST', auth: 'backOffice' },
  resetSubjectCorrelationId: { name: 'subjects-correlation-id-reset', route: 'subjects/{subjectKey}/correlation-id/reset', method: 'POST', auth: 'backOffice' },
  getSubjectImage: { name: 'subjects-images', route: 'subjects/{subjectKey}/images', method: 'GET', auth: 'backOffice' },
  // Back office: webhooks
  listWebhookFailures: { name: 'webhook-failures-list', route: 'webhook-failures', method: 'GET', auth: 'backOffice' },
  listWebhookAttempts: { name: 'webhook-events-attempts', route: 'webhook-events/{eventId}/attempts', method: 'GET', auth: 'backOffice' },
  redeliverWebhookEvent: { name: 'webhook-events-redeliver', route: 'webhook-events/{eventId}/redeliver', method: 'POST', auth: 'backOffice' },
  // Evidence log: the public keys (anonymous), checkpoints and export (back office)
  getEvidenceKeys: { name: 'evidence-keys', route: 'evidence/keys', method: 'GET', auth: 'anonymous' },
  writeEvidenceCheckpoint: { name: 'evidence-checkpoints', route: 'evidence/checkpoints', method: 'POST', auth: 'backOffice' },
  exportEvidence: { name: 'evidence-export', route: 'evidence/export', method: 'GET', auth: 'backOffice' },
  // Operations
  getHealth: { name: 'health', route: 'health', method: 'GET', auth: 'anonymous' },
  getOpenApiDocument: { name: 'openapi', route: 'openapi.json', method: 'GET', auth: 'anonymous' },
} as const satisfies Record<string, OperationRoute>;

export type OperationId = keyof typeof OPERATIONS;
export type AuthOf<Id extends OperationId> = (typeof OPERATIONS)[Id]['auth'];

/** The route prefix of the Entra ID twin of a back-office operation. */
export const BACKOFFICE_PREFIX = 'backoffice/';
/** The operationId suffix of the Entra ID twin of a back-office operation. */
export const ENTRA_ID_SUFFIX = 'WithEntraId';
