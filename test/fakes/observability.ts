// A logger that keeps what it is told (and can stand in for an InvocationContext's log handler), and metrics that
// record calls (or do nothing).
import type { LogHandler, LogLevel } from '@azure/functions';
import type { LivenessMetrics, Logger, SweepDeletionKind } from '../../src/core/ports.js';

export interface LogEntry { level: 'info' | 'warn' | 'error'; message: string; fields?: Record<string, unknown> }

export class CapturingLogger implements Logger {
  readonly entries: LogEntry[] = [];

  info(message: string, fields?: Record<string, unknown>): void {
    this.entries.push({ level: 'info', message, ...(fields ? { fields } : {}) });
  }

  warn(message: string, fields?: Record<string, unknown>): void {
    this.entries.push({ level: 'warn', message, ...(fields ? { fields } : {}) });
  }

  error(message: string, fields?: Record<string, unknown>): void {
    this.entries.push({ level: 'error', message, ...(fields ? { fields } : {}) });
  }

  messages(level?: LogEntry['level']): string[] {
    return this.entries.filter((e) => !level || e.level === level).map((e) => e.message);
  }

  /** Everything logged, as one text (for "no secret appears anywhere" checks). */
  text(): string {
    return this.entries.map((e) => `${e.level} ${e.message} ${e.fields ? JSON.stringify(e.fields) : ''}`).join('\n');
  }

  /** An InvocationContext log handler writing here (the handler's logger formats fields into the message). */
  readonly logHandler: LogHandler = (level: LogLevel, ...args: unknown[]) => {
    const message = args.map(String).join(' ');
    if (level === 'error' || level === 'critical') this.error(message);
    else if (level === 'warning') this.warn(message);
    else this.info(message);
  };
}

export const noopMetrics: LivenessMetrics = {
  sessionCreated: () => undefined,
  decisionRecorded: () => undefined,
  timeToResult: () => undefined,
  sweepDeletions: () => undefined,
};

export class RecordingMetrics implements LivenessMetrics {
  readonly created: Array<{ livenessOperationMode?: string }> = [];
  readonly decisions: string[] = [];
  readonly timesToResult: Array<{ milliseconds: number; outcome?: string }> = [];
  readonly sweeps: Array<{ kind: SweepDeletionKind; count: number }> = [];

  sessionCreated(attributes: { livenessOperationMode?: string } = {}): void {
    this.created.push(attributes);
  }

  decisionRecorded(outcome: string): void {
    this.decisions.push(outcome);
  }

  timeToResult(milliseconds: number, outcome?: string): void {
    this.timesToResult.push({ milliseconds, ...(outcome ? { outcome } : {}) });
  }

  sweepDeletions(kind: SweepDeletionKind, count: number): void {
    this.sweeps.push({ kind, count });
  }
}
