// npm run evidence:verify -- <export.json> [--receipt <receipt.json>]... [--keys <jwks.json>]
// Checks an evidence export offline (src/core/evidence-verify.ts): every chain link, every checkpoint signature and,
// for each receipt given, that its record is present, covered by a signed checkpoint and matches the receipt.
// With --keys (e.g. saved from GET /api/evidence/keys), checkpoints must be signed by those keys, not only by the
// keys the export itself carries. Exit code 0 when everything verifies, 1 with the first problem named otherwise.
import { readFileSync } from 'node:fs';
import type { EvidenceExport } from '../src/core/evidence.js';
import { verifyExport, type ReceiptToCheck } from '../src/core/evidence-verify.js';

function main(argv: string[]): number {
  const receipts: ReceiptToCheck[] = [];
  let keysFile: string | undefined;
  let exportFile: string | undefined;
  for (let i = 0; i < argv.length; i++) {
    const arg = argv[i]!;
    if (arg === '--receipt') receipts.push(JSON.parse(readFileSync(argv[++i]!, 'utf8')) as ReceiptToCheck);
    else if (arg === '--keys') keysFile = argv[++i];
    else exportFile = arg;
  }
  if (!exportFile) {
    console.error('usage: npm run evidence:verify -- <export.json> [--receipt <receipt.json>]... [--keys <jwks.json>]');
    return 2;
  }
  const exported = JSON.parse(readFileSync(exportFile, 'utf8')) as EvidenceExport;
  if (keysFile) exported.keys = JSON.parse(readFileSync(keysFile, 'utf8')) as EvidenceExport['keys'];
  const report = verifyExport(exported, receipts);
  if (report.ok) {
    console.log(`OK: ${report.checkpoints} signed checkpoint(s), ${report.records} record(s) linked, ${report.receipts} receipt(s) found and matching.`);
    return 0;
  }
  console.error(`FAILED: ${report.problem}`);
  return 1;
}

process.exitCode = main(process.argv.slice(2));
