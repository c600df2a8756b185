// The evidence log's routes: the public keys (anonymous, for anyone verifying a checkpoint), a checkpoint on demand
// and the export of a time range (back office).
import { exportEvidence, writeCheckpoint } from '../core/evidence.js';
import { ValidationError } from '../core/errors.js';
import { httpOperation, type OperationHandler } from '../shared/auth.js';
import { json } from '../shared/http.js';
import { contract } from '../shared/contract.js';

/** The longest range one export may cover (an export is read into memory). */
const MAX_EXPORT_DAYS = 92;

/** GET /api/evidence/keys — anonymous: the JWKS of every key that signed checkpoints (old keys kept). */
export const getEvidenceKeys: OperationHandler<'getEvidenceKeys'> = async ({ deps }) =>
  json(200, { keys: await deps.evidenceSigner.publicKeys() });

/** POST /api/evidence/checkpoints — sign the chain heads now (answers the latest one when nothing was appended since). */
export const writeEvidenceCheckpoint: OperationHandler<'writeEvidenceCheckpoint'> = async ({ deps }) => {
  const written = await writeCheckpoint(deps);
  return json(written.created ? 201 : 200, written);
};

/** GET /api/evidence/export?from=&to= — checkpoints written in the range and every record they cover. */
export const exportEvidenceRange: OperationHandler<'exportEvidence'> = async ({ request, deps }) => {
  const { parseQuery, evidenceExportQuerySchema, evidenceExportQueryCodes } = await contract();
  const query = parseQuery(evidenceExportQuerySchema, request.query, evidenceExportQueryCodes);
  const from = new Date(query.from);
  const to = new Date(query.to);
  if (to < from) throw new ValidationError('BadArgument', "'to' is before 'from'.");
  if (to.getTime() - from.getTime() > MAX_EXPORT_DAYS * 86_400_000) throw new ValidationError('BadArgument', `A range covers at most ${MAX_EXPORT_DAYS} days.`);
  return json(200, await exportEvidence(deps, from.toISOString(), to.toISOString()));
};

httpOperation('getEvidenceKeys', getEvidenceKeys);
httpOperation('writeEvidenceCheckpoint', writeEvidenceCheckpoint);
httpOperation('exportEvidence', exportEvidenceRange);
