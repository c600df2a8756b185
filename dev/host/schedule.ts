// Timer schedules as the Functions timer trigger understands them:
//  - NCRONTAB `{second} {minute} {hour} {day} {month} {day-of-week}` (a 5-field expression is accepted too),
//    evaluated with croner in `domAndDow` mode: NCrontab requires day-of-month AND day-of-week to match,
//    unlike Vixie cron's OR;
//  - a TimeSpan `[d.]hh:mm:ss`: a fixed interval between runs.
// Time zone: WEBSITE_TIME_ZONE (IANA name) or UTC.
import { Cron } from 'croner';
import { isTimeSpan, parseTimeSpan } from './settings.js';

export type Schedule =
  | { kind: 'timespan'; expression: string; intervalMs: number }
  | { kind: 'cron'; expression: string; timezone: string; cron: Cron };

export function parseSchedule(expression: string, timezone = 'UTC'): Schedule {
  const expr = expression.trim();
  if (isTimeSpan(expr)) {
    const intervalMs = parseTimeSpan(expr);
    if (intervalMs <= 0) throw new Error(`TimeSpan schedule '${expr}' must be positive`);
    return { kind: 'timespan', expression: expr, intervalMs };
  }
  const fields = expr.split(/\s+/);
  if (fields.length !== 6 && fields.length !== 5) throw new Error(`NCRONTAB '${expr}' must have 6 fields ({second} {minute} {hour} {day} {month} {day-of-week})`);
  const cron = new Cron(expr, { timezone, domAndDow: true, paused: true, mode: '5-or-6-parts' });
  return { kind: 'cron', expression: expr, timezone, cron };
}

/** The first occurrence strictly after `from` (null when the expression never fires again). */
export function nextOccurrence(schedule: Schedule, from: Date): Date | null {
  if (schedule.kind === 'timespan') return new Date(from.getTime() + schedule.intervalMs);
  return schedule.cron.nextRun(from);
}

/** The next `count` occurrences after `from`. */
export function nextOccurrences(schedule: Schedule, from: Date, count: number): Date[] {
  const out: Date[] = [];
  let cursor: Date | null = from;
  while (out.length < count && cursor) {
    cursor = nextOccurrence(schedule, cursor);
    if (cursor) out.push(cursor);
  }
  return out;
}

/** Resolves the timer time zone: WEBSITE_TIME_ZONE when it is a valid IANA zone, else UTC (with a reason). */
export function timerTimeZone(env: NodeJS.ProcessEnv = process.env): { timezone: string; warning?: string } {
  const tz = env.WEBSITE_TIME_ZONE?.trim();
  if (!tz) return { timezone: 'UTC' };
  try {
    new Intl.DateTimeFormat('en-US', { timeZone: tz });
    return { timezone: tz };
  } catch {
    return { timezone: 'UTC', warning: `WEBSITE_TIME_ZONE '${tz}' is not an IANA time zone name; timers use UTC` };
  }
}
