// (9) The evidence log's cost, in-process against Azurite: storage calls one evidence append makes (a decision adds
// its record plus the session write that clears the evidence outbox; a create adds the consent record), what an
// erasure adds (its record, the delivery-log index read, the activity row), and a checkpoint's calls and time with an
// empty log and with 100,000 records outside the window. The claim: a checkpoint reads one head per chain, so it
// costs the same whatever the log holds.
import { TableClient, type TransactionAction } from '@azure/data-tables';
import { evidenceTableName } from '../src/adapters/storage/table-evidence-log.js';
import {
  appendEvidence, canonicalJson, chainOf, EVIDENCE_CHAINS, exportEvidence, GENESIS_HASH, recordHash, writeCheckpoint,
  type EvidenceRecord,
} from '../src/core/evidence.js';
import { round, runPool } from './lib/stats.js';
import { benchDeps, recording, type WireCall } from './sweep.js';

export interface EvidenceEnv { connectionString: string; faceEndpoint: string; faceKey: string; extraEnv: Record<string, string> }

const OLD = Date.parse('2020-01-01T00:00:00.000Z');

/** `total` valid records (linked per chain), dated long before the window, with their heads, written in batches. */
async function seedRecords(connectionString: string, prefix: string, total: number): Promise<number> {
  const table = TableClient.fromConnectionString(connectionString, evidenceTableName(prefix), { allowInsecureConnection: true });
  await table.createTable();
  const txns: TransactionAction[][] = [];
  for (let chain = 0; chain < EVIDENCE_CHAINS; chain++) {
    const pk = `chain-${String(chain).padStart(2, '0')}`;
    let prev = GENESIS_HASH;
    const rows: Array<Record<string, unknown> & { partitionKey: string; rowKey: string }> = [];
    const count = Math.floor(total / EVIDENCE_CHAINS);
    for (let seq = 1; seq <= count; seq++) {
      const record: EvidenceRecord = {
        v: 1, recordId: `seed|${chain}|${seq}`, type: 'consent.recorded', time: new Date(OLD + seq * 1000).toISOString(),
        digest: GENESIS_HASH, chain, seq, prev,
      };
      const hash = recordHash(record);
      rows.push({ partitionKey: pk, rowKey: `r|${String(seq).padStart(12, '0')}`, recordJson: canonicalJson(record), hash });
      rows.push({ partitionKey: pk, rowKey: `id|${record.recordId}`, seq });
      prev = hash;
    }
    rows.push({ partitionKey: pk, rowKey: 'head', seq: count, hash: prev });
    for (let i = 0; i < rows.length; i += 100) txns.push(rows.slice(i, i + 100).map((e): TransactionAction => ['create', e]));
  }
  await runPool(txns.length, 4, async (i) => { await table.submitTransaction(txns[i]!); });
  return txns.length;
}

const storageCalls = (calls: WireCall[]) => calls.filter((c) => c.service === 'table' || c.service === 'blob' || c.service === 'queue');
const describe = (calls: WireCall[], prefix: string) => {
  const by: Record<string, number> = {};
  for (const c of storageCalls(calls)) {
    const key = `${c.service} ${c.method} ${c.target.replace(prefix, '<prefix>').replace(/\(.*$/, '')}`;
    by[key] = (by[key] ?? 0) + 1;
  }
  return Object.entries(by).map(([k, n]) => `${k} x${n}`).join(', ');
};

export interface EvidenceBenchRun { records: number; checkpointCalls: number; checkpointMs: number; checkpointOps: string; exportCalls: number; exportRecords: number }

export interface EvidenceBenchResult {
  appendCalls: number; appendOps: string;
  erasureExtraCalls: number; erasureExtraOps: string;
  runs: EvidenceBenchRun[];
  seededTransactions: number;
}

export async function evidenceCost(env: EvidenceEnv, prefixes: { zero: string; hundredK: string }, records: number, log: (line: string) => void): Promise<EvidenceBenchResult> {
  const t0 = performance.now();
  const seededTransactions = await seedRecords(env.connectionString, prefixes.hundredK, records);
  log(`seeded ${records} evidence records in ${round((performance.now() - t0) / 1000, 1)} s`);
  const runs: EvidenceBenchRun[] = [];
  let appendCalls = 0;
  let appendOps = '';
  let erasureExtraCalls = 0;
  let erasureExtraOps = '';
  for (const [prefix, count] of [[prefixes.zero, 0], [prefixes.hundredK, records]] as const) {
    const { deps } = benchDeps(env, prefix, () => undefined);
    // One append warms the table client, and a checkpoint before the window is the base an export starts from
    // (in the 100k log it covers every seeded record). Then one measured append (what a decision or a consent adds,
    // less the session write that clears the outbox).
    const subjectKey = 'ab'.repeat(32);
    await appendEvidence(deps, { recordId: `warm|${prefix}`, type: 'consent.recorded', time: new Date().toISOString(), subjectKey, digest: GENESIS_HASH });
    await writeCheckpoint(deps);
    await new Promise((resolve) => setTimeout(resolve, 5));
    const windowStart = new Date();
    const append = await recording(() => appendEvidence(deps, { recordId: `bench|${prefix}`, type: 'session.decided', time: new Date().toISOString(), subjectKey, digest: GENESIS_HASH }));
    // What an erasure adds besides its own record: the delivery log by subject key, the activity row.
    const erasureExtra = await recording(async () => {
      await deps.deliveries.erase(subjectKey);
      await deps.activity.remove(subjectKey, windowStart.toISOString());
    });
    if (count === 0) {
      appendCalls = storageCalls(append.calls).length;
      appendOps = describe(append.calls, prefix);
      erasureExtraCalls = storageCalls(erasureExtra.calls).length;
      erasureExtraOps = describe(erasureExtra.calls, prefix);
    }
    const c0 = performance.now();
    const checkpoint = await recording(() => writeCheckpoint(deps));
    const checkpointMs = round(performance.now() - c0, 1);
    if (!checkpoint.value.created) throw new Error('the checkpoint was not written');
    const exported = await recording(() => exportEvidence(deps, windowStart.toISOString(), new Date(Date.now() + 60_000).toISOString()));
    runs.push({
      records: count, checkpointCalls: storageCalls(checkpoint.calls).length, checkpointMs, checkpointOps: describe(checkpoint.calls, prefix),
      exportCalls: storageCalls(exported.calls).length, exportRecords: exported.value.records.length,
    });
    log(`evidence with ${count} old records: checkpoint ${storageCalls(checkpoint.calls).length} calls ${checkpointMs} ms; export of the window ${exported.value.records.length} records in ${storageCalls(exported.calls).length} calls (chain of the bench subject: ${chainOf({ subjectKey, recordId: '' })})`);
  }
  return { appendCalls, appendOps, erasureExtraCalls, erasureExtraOps, runs, seededTransactions };
}
