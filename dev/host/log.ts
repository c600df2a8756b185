// Log lines of the dev host: `[<ISO time>] message` for the host, `[<ISO time>] [<function>/<level>] message` for
// function logs. Request bodies, headers and query strings are never logged (they carry keys, tokens and images).
import { writeSync } from 'node:fs';
import { format } from 'node:util';

const LEVELS = ['trace', 'debug', 'information', 'warning', 'error', 'critical', 'none'] as const;
export type LogLevel = (typeof LEVELS)[number];

function minimumLevel(): number {
  const wanted = (process.env.DEVHOST_LOG_LEVEL ?? 'information').toLowerCase();
  const index = LEVELS.indexOf(wanted === 'info' ? 'information' : wanted === 'warn' ? 'warning' : (wanted as LogLevel));
  return index < 0 ? 2 : index;
}
const min = minimumLevel();

export function enabled(level: string): boolean {
  const index = LEVELS.indexOf(level as LogLevel);
  return (index < 0 ? 2 : index) >= min;
}

/**
 * Lines wait for the end of the current turn of the event loop and then go out in one write per stream: on Linux a
 * write to a pipe is a synchronous system call, and one per line was a measurable share of the host's CPU under load
 * (`npm run bench`, section 3). The HTTP server flushes before it sends an answer (flushLogs), so whatever an
 * invocation logged is out before its caller sees the answer, as with one write per line. What is pending when the
 * process exits is written before it goes.
 */
const pending: Record<1 | 2, string[]> = { 1: [], 2: [] };
let flushScheduled = false;

/** Hands each stream's pending lines to `out` as one text, and forgets them. */
function drain(out: (fd: 1 | 2, text: string) => void): void {
  for (const fd of [1, 2] as const) {
    if (!pending[fd].length) continue;
    const text = pending[fd].join('');
    pending[fd] = [];
    out(fd, text);
  }
}

/** Writes the pending lines now. */
export function flushLogs(): void {
  flushScheduled = false;
  drain((fd, text) => (fd === 2 ? process.stderr : process.stdout).write(text));
}

// At exit there is no later turn: the lines are written synchronously.
process.once('exit', () => drain((fd, text) => { try { writeSync(fd, text); } catch { /* the reader is gone */ } }));

function write(line: string, level: string): void {
  pending[level === 'error' || level === 'critical' ? 2 : 1].push(line.endsWith('\n') ? line : `${line}\n`);
  if (!flushScheduled) { flushScheduled = true; setImmediate(flushLogs); }
}

export function hostLog(message: string, level: LogLevel = 'information'): void {
  if (enabled(level)) write(`[${new Date().toISOString()}] ${message}`, level);
}

export function functionLog(functionName: string, level: string, args: unknown[]): void {
  if (enabled(level)) write(`[${new Date().toISOString()}] [${functionName}/${level}] ${format(...args)}`, level);
}

/** Error message (and stack, for the console only) without throwing on odd values. */
export function describeError(err: unknown): string {
  if (err instanceof Error) return err.stack ?? `${err.name}: ${err.message}`;
  return format(err);
}
