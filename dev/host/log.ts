// Log lines of the dev host: `[<ISO time>] message` for the host, `[<ISO time>] [<function>/<level>] message` for
// function logs. Request bodies, headers and query strings are never logged (they carry keys, tokens and images).
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

function write(line: string, level: string): void {
  const stream = level === 'error' || level === 'critical' ? process.stderr : process.stdout;
  stream.write(line.endsWith('\n') ? line : `${line}\n`);
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
