// Consent: the version of the published consent text a person agreed to must come with every create, before
// anything is read or stored; and the privacy notice (GET /api/privacy) that publishes the texts and retention.
import type { ConsentText, LivenessSettings } from '../config/config.js';
import type { PrivacyBody } from '../contract/types.js';
import { ValidationError } from './errors.js';

export type { ConsentText };

/** Consent, its published texts, and whether a device may bring its own reference (LivenessSettings.privacy). */
export type PrivacySettings = LivenessSettings['privacy'];

/**
 * Consent comes before anything is read or stored: the version the person saw must be the current one. Called at
 * the HTTP edge as soon as the form field is parsed, and again by startSession (the rule lives here).
 */
export function assertConsent(settings: PrivacySettings, consentVersion: string | undefined): void {
  if (!settings.consentRequired) return;
  if (consentVersion !== settings.currentConsentVersion) {
    throw new ValidationError('ConsentRequired', consentVersion === undefined
      ? `The form must include 'consentVersion': the version of the consent text the person agreed to (current: ${settings.currentConsentVersion}; see GET /api/privacy).`
      : `consentVersion is not the current consent version (${settings.currentConsentVersion}; see GET /api/privacy).`);
  }
}

/** GET /api/privacy: the consent texts, the version a device must send, and how long each kind of data is kept. */
export function privacyNotice(settings: LivenessSettings): PrivacyBody {
  const p = settings.privacy;
  return {
    consent: {
      required: p.consentRequired,
      currentVersion: p.currentConsentVersion,
      versions: p.consentVersions,
    },
    deviceReferenceAllowed: p.deviceReferenceAllowed,
    retention: [
      {
        data: 'faceSession', description: 'The liveness session at Azure AI Face (its token, captured attempts).',
        kept: settings.deleteFaceSessionAfterCollect
          ? 'Until the result is collected, at most until the session token expires.'
          : 'Until the session token expires.',
        maxSeconds: settings.authTokenTtlSeconds,
      },
      {
        data: 'verifyAndSessionImages', description: 'The verify image sent to Face and the captured session image.',
        kept: `${settings.imageRetentionHours} hours after the session token expires.`,
        hoursAfterTokenExpiry: settings.imageRetentionHours,
      },
      {
        data: 'sessionRecords', description: 'Session records, decisions, reviews and audit entries (no images).',
        kept: `${settings.recordRetentionDays} days after the session token expires.`,
        daysAfterTokenExpiry: settings.recordRetentionDays,
      },
      {
        data: 'enrolledReference', description: 'A reference image the operator enrolled for the person.',
        kept: 'Until the operator removes or replaces it, or the person is erased.',
      },
      {
        data: 'consentRecords', description: 'Which consent text version the person agreed to, and when.',
        kept: 'Until the person is erased.',
      },
      {
        data: 'idempotencyKeys', description: 'Remembered create requests (no images).',
        kept: `${settings.idempotencyTtlSeconds} seconds, then overwritten; deleted with the person.`,
      },
      {
        data: 'deletionReceipts', description: 'What an erasure deleted, when and by whom (the keyed hash only).',
        kept: 'Kept as evidence of the erasure.',
      },
    ],
  };
}
