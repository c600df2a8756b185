// (7) Erasure scaling, in-process: erase subjects with 1, 5 and 20 sessions (made through the app's own core:
// startSession at the Face emulator, an enrolled reference, consents, quota rows, an Idempotency-Key) next to 0 and
// next to 100,000 other sessions (seeded straight into Table storage, with their subject-sessions index rows), and
// count every storage call the erasure makes (wire recorder from sweep.ts) and the table queries it sends. The
// claim: the calls follow the subject's own data, and are the same whatever else the tables hold.
import { TableClient, type TransactionAction } from '@azure/data-tables';
import { subjectKeyer } from '../src/adapters/storage/table-subject-store.js';
import { tableNames } from '../src/adapters/storage/table-names.js';
import { DEFAULT_CONSENT_VERSION } from '../src/config/config.js';
import type { LivenessDeps } from '../src/core/deps.js';
import { eraseSubject } from '../src/core/erase-subject.js';
import { startSession } from '../src/core/start-session.js';
import { enrolReference } from '../src/core/references.js';
import { round, runPool } from './lib/stats.js';
import { benchDeps, recording, seed } from './sweep.js';


export interface ErasureEnv { connectionString: string; faceEndpoint: string; faceKey: string; extraEnv: Record<string, string> }

function depsFor(env: ErasureEnv, prefix: string, onQuery: (table: string, filter: string) => void): LivenessDeps & { keyOf: (s: string) => string } {
  // Quotas far above what one seeded subject holds: the bench measures erasure, not the quota.
  const { deps, config } = benchDeps(env, prefix, onQuery, {
    settings: { LIVENESS_MAX_OPEN_SESSIONS_PER_SUBJECT: '1000', LIVENESS_MAX_CREATES_PER_SUBJECT: '100000' },
  });
  return { ...deps, keyOf: subjectKeyer(config.subjects.keySecret) };
}

/** Subject-sessions index rows for the seeded sessions (1,000 subjects, as sweep.ts names them). */
async function seedSubjectIndex(connectionString: string, prefix: string, ids: string[], keyOf: (s: string) => string): Promise<number> {
  const table = TableClient.fromConnectionString(connectionString, tableNames(prefix).subjectSessions, { allowInsecureConnection: true });
  await table.createTable();
  const byKey = new Map<string, string[]>();
  ids.forEach((id, n) => {
    const key = keyOf(`bench-subject-${n % 1000}`);
    (byKey.get(key) ?? byKey.set(key, []).get(key)!).push(id);
  });
  const txns: TransactionAction[][] = [];
  for (const [key, list] of byKey) {
    for (let i = 0; i < list.length; i += 100) txns.push(list.slice(i, i + 100).map((id): TransactionAction => ['create', { partitionKey: key, rowKey: id }]));
  }
  await runPool(txns.length, 4, async (i) => { await table.submitTransaction(txns[i]!); });
  return txns.length;
}

/** A subject with `sessions` open sessions (one with an Idempotency-Key), an enrolled reference and a consent. */
async function makeSubject(deps: LivenessDeps, subject: string, sessions: number, image: Uint8Array): Promise<string> {
  const fields = { consentVersion: DEFAULT_CONSENT_VERSION, enableSessionImage: true };
  for (let i = 0; i < sessions; i++) {
    await startSession(deps, { caller: { subject }, fields, verifyImage: image, ...(i === 0 ? { idempotencyKey: `bench-${subject}` } : {}) });
  }
  const key = deps.subjects.keyOf(subject);
  await enrolReference(deps, key, image, 'bench');
  return key;
}

export interface ErasureRun {
  others: number;
  sessions: number;
  ms: number;
  calls: number;
  byOperation: Record<string, number>;
  queries: Array<{ table: string; filter: string }>;
  deleted: Record<string, number>;
}

export async function erasureScaling(env: ErasureEnv, prefixes: { zero: string; hundredK: string }, others: number, image: Uint8Array, log: (s: string) => void): Promise<{ runs: ErasureRun[]; seeded: unknown }> {
  const now = Date.now();
  const probe = depsFor(env, prefixes.hundredK, () => undefined);
  const seeded = await seed(env.connectionString, { prefix: prefixes.hundredK, live: others, expired: 0, now });
  const ids = await idsOf(env.connectionString, prefixes.hundredK);
  const indexTxns = await seedSubjectIndex(env.connectionString, prefixes.hundredK, ids, probe.keyOf);
  log(`erasure: seeded ${others.toLocaleString('en')} other sessions (${seeded.seconds} s) and ${indexTxns} subject-index transactions`);

  const runs: ErasureRun[] = [];
  const sizes = [1, 5, 20];
  // Warm-up on each prefix: one small subject made and erased (table creation, connections, code paths).
  for (const prefix of [prefixes.zero, prefixes.hundredK]) {
    const deps = depsFor(env, prefix, () => undefined);
    await eraseSubject(deps, await makeSubject(deps, `warm-${prefix}`, 1, image), 'bench');
  }
  for (const sessions of sizes) {
    for (const [prefix, count] of [[prefixes.zero, 0], [prefixes.hundredK, others]] as const) {
      const deps = depsFor(env, prefix, () => undefined);
      const key = await makeSubject(deps, `erase-${sessions}-${prefix}`, sessions, image);
      const t0 = performance.now();
      const { value: receipt, calls } = await recording(() => eraseSubject(deps, key, 'bench'));
      const ms = round(performance.now() - t0, 1);
      const storage = calls.filter((c) => c.service === 'blob' || c.service === 'table' || c.service === 'queue');
      const byOperation: Record<string, number> = {};
      for (const c of storage) {
        const k = `${c.service} ${c.method} ${c.target.replace(prefix, '<prefix>')}`;
        byOperation[k] = (byOperation[k] ?? 0) + 1;
      }
      // Every table query on the wire (all tables, not only the repository's): each must name one partition.
      const wire = storage.filter((c) => c.service === 'table' && c.filter).map((c) => ({ table: c.target.replace(prefix, '<prefix>'), filter: c.filter! }));
      runs.push({ others: count, sessions, ms, calls: storage.length, byOperation, queries: wire, deleted: receipt.deleted });
      log(`erasure: ${sessions} sessions next to ${count.toLocaleString('en')} others: ${storage.length} storage calls, ${ms} ms, deleted ${JSON.stringify(receipt.deleted)}`);
    }
  }
  return { runs, seeded: { ...seeded, subjectIndexTransactions: indexTxns } };
}

async function idsOf(connectionString: string, prefix: string): Promise<string[]> {
  const table = TableClient.fromConnectionString(connectionString, tableNames(prefix).sessions, { allowInsecureConnection: true });
  const ids: string[] = [];
  for await (const page of table.listEntities({ queryOptions: { select: ['RowKey'] } }).byPage({ maxPageSize: 1000 })) {
    for (const e of page) ids.push(e.rowKey!.slice(e.rowKey!.indexOf('|') + 1));
  }
  return ids;
}
