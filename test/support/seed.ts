// One seed for everything random in a test file (fast-check runs, fault injection, jitter), so a failure can be
// replayed: the seed comes from TEST_SEED when set, else it is picked at random; a failing test prints it with the
// command that re-runs the file with the same seed.
//
// The generator is mulberry32 (a well-known 32-bit PRNG, a few lines): enough for choosing faults and delays, and
// fast-check takes the seed itself.
import { randomInt } from 'node:crypto';
import path from 'node:path';
import { beforeEach } from 'vitest';

function seedFromEnv(): number | undefined {
  const raw = process.env.TEST_SEED?.trim();
  if (!raw) return undefined;
  const seed = Number(raw);
  if (!Number.isSafeInteger(seed)) throw new Error(`TEST_SEED must be an integer, got ${JSON.stringify(raw)}`);
  return seed | 0;
}

/** This run's seed (a 32-bit integer). */
export const TEST_SEED: number = seedFromEnv() ?? randomInt(-(2 ** 31), 2 ** 31);

/** A PRNG in [0, 1) from a 32-bit seed (mulberry32). */
export function seededRandom(seed: number): () => number {
  let a = seed | 0;
  return () => {
    a = (a + 0x6d2b79f5) | 0;
    let t = Math.imul(a ^ (a >>> 15), 1 | a);
    t = (t + Math.imul(t ^ (t >>> 7), 61 | t)) ^ t;
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

/**
 * Registers, for every test in the calling file, a failure hook that prints the seed and how to re-run with it.
 * Call once at the top level of a test file; returns the seed.
 */
export function useTestSeed(testFile: string): number {
  const file = path.relative(process.cwd(), testFile.startsWith('file:') ? new URL(testFile).pathname : testFile);
  beforeEach(({ onTestFailed, task }) => {
    onTestFailed(() => {
      console.error(`\n[seed] "${task.name}" failed with TEST_SEED=${TEST_SEED}; re-run it with: TEST_SEED=${TEST_SEED} npx vitest run ${file}\n`);
    });
  });
  return TEST_SEED;
}
