// A clock that stands still until a test moves it. The core reads time only through the Clock port.
import type { Clock } from '../../src/core/ports.js';

export const DEFAULT_START = '2026-01-01T09:00:00.000Z';

export class FakeClock implements Clock {
  private ms: number;

  constructor(start: string | Date = DEFAULT_START) {
    this.ms = new Date(start).getTime();
  }

  now(): Date {
    return new Date(this.ms);
  }

  set(at: string | Date): void {
    this.ms = new Date(at).getTime();
  }

  advance(by: { ms?: number; seconds?: number; minutes?: number; hours?: number; days?: number }): Date {
    this.ms += (by.ms ?? 0) + (by.seconds ?? 0) * 1e3 + (by.minutes ?? 0) * 6e4 + (by.hours ?? 0) * 3.6e6 + (by.days ?? 0) * 8.64e7;
    return this.now();
  }
}
