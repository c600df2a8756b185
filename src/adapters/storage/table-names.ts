// Every Table storage table the app uses, in one place: the adapters that own them and the tests and benchmarks that
// look inside them take their names from here. Names carry the configured prefix (TABLE_PREFIX), so test suites and
// benchmark runs on one Azurite keep apart.

export interface TableNames {
  sessions: string; auditEntries: string; sweepSchedule: string; subjectSessions: string; reviewQueue: string;
  subjects: string; deletionReceipts: string; attemptLimits: string; idempotencyKeys: string;
  webhookAttempts: string; webhookDeadLetters: string; webhookSubjects: string; evidence: string; subjectActivity: string;
  attestedDevices: string; verifications: string;
}

export function tableNames(prefix: string): TableNames {
  return {
    sessions: `${prefix}LivenessSessions`,
    auditEntries: `${prefix}LivenessAuditEntries`,
    sweepSchedule: `${prefix}LivenessSweepSchedule`,
    subjectSessions: `${prefix}LivenessSubjectSessions`,
    reviewQueue: `${prefix}LivenessReviewQueue`,
    subjects: `${prefix}LivenessSubjects`,
    deletionReceipts: `${prefix}LivenessDeletionReceipts`,
    attemptLimits: `${prefix}LivenessAttemptLimits`,
    idempotencyKeys: `${prefix}LivenessIdempotencyKeys`,
    webhookAttempts: `${prefix}LivenessWebhookAttempts`,
    webhookDeadLetters: `${prefix}LivenessWebhookDeadLetters`,
    webhookSubjects: `${prefix}LivenessWebhookSubjects`,
    evidence: `${prefix}LivenessEvidence`,
    subjectActivity: `${prefix}LivenessSubjectActivity`,
    attestedDevices: `${prefix}LivenessAttestedDevices`,
    verifications: `${prefix}LivenessVerifications`,
  };
}
