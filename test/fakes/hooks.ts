// Test hooks shared by every fake: count calls per operation, fail the next N calls of an operation with a given
// error, and run a callback just before the next call of an operation (to slip a concurrent writer in).
// A fake calls `await this.hooks.enter('operation')` first thing in each method; the operation names are the port's
// method names, plus any extra points a fake offers (the session repository's 'write', for instance).

type ErrorFactory = Error | (() => Error);
type Callback = () => unknown;

export class OperationHooks<Op extends string = string> {
  private readonly counts = new Map<Op, number>();
  private readonly failures = new Map<Op, ErrorFactory[]>();
  private readonly always = new Map<Op, ErrorFactory>();
  private readonly befores = new Map<Op, Callback[]>();

  /** How many times `op` was entered (including calls that were made to fail). */
  calls(op: Op): number {
    return this.counts.get(op) ?? 0;
  }

  /** Every operation entered at least once, with its count. */
  allCalls(): Record<string, number> {
    return Object.fromEntries(this.counts);
  }

  resetCalls(): void {
    this.counts.clear();
  }

  /** The next `times` calls of `op` throw `error` (a factory makes a fresh error per call). */
  failNext(op: Op, error: ErrorFactory, times = 1): this {
    const queue = this.failures.get(op) ?? [];
    for (let i = 0; i < times; i++) queue.push(error);
    this.failures.set(op, queue);
    return this;
  }

  /** Every call of `op` throws `error` until `clearFailures`. */
  failAlways(op: Op, error: ErrorFactory): this {
    this.always.set(op, error);
    return this;
  }

  clearFailures(op?: Op): void {
    if (op) {
      this.failures.delete(op);
      this.always.delete(op);
    } else {
      this.failures.clear();
      this.always.clear();
    }
  }

  /**
   * Runs `callback` (awaited) just before the next call of `op` goes ahead. The callback is taken off the list before
   * it runs, so it may call the same fake (and the same operation) without running itself again.
   */
  beforeNext(op: Op, callback: Callback): this {
    const queue = this.befores.get(op) ?? [];
    queue.push(callback);
    this.befores.set(op, queue);
    return this;
  }

  /** Counts the call, runs a pending callback, then throws a pending failure. */
  async enter(op: Op): Promise<void> {
    this.counts.set(op, this.calls(op) + 1);
    const before = this.befores.get(op)?.shift();
    if (before) await before();
    const failure = this.failures.get(op)?.shift() ?? this.always.get(op);
    if (failure) throw typeof failure === 'function' ? failure() : failure;
  }
}
