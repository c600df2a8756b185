// Turns a failed zod parse into the API's own 400: a ValidationError with the code the field has always had and the
// message its schema carries. One issue is reported (the first by field order, unknown keys before all), as before.
import type { z } from 'zod';
import { ValidationError } from '../core/errors.js';

/** Printable ASCII only and at most `max` characters, so a caller's text can be echoed in an error message safely. */
export function printable(text: string, max = 64): string {
  const clean = text.replace(/[^\x20-\x7e]/g, '?');
  return clean.length > max ? `${clean.slice(0, max)}…` : clean;
}

export interface ParseCodes {
  /**
   * The error code for an issue in each field (the first path segment), in the order fields are checked; with a
   * message, that message replaces the schema's for every issue in the field.
   */
  byField: Record<string, string | { code: string; message: string }>;
  /** The code for anything else (an unknown key, a wrong overall shape). */
  otherwise: string;
  /** The message for an unknown key; default "Unknown field '<name>'." */
  unknownKey?: (key: string) => string;
}

/** Parses `input` with `schema`; on failure throws ValidationError(code, message) for the first issue. */
export function parseWith<S extends z.ZodType>(schema: S, input: unknown, codes: ParseCodes): z.output<S> {
  const parsed = schema.safeParse(input);
  if (parsed.success) return parsed.data;
  const fieldOrder = Object.keys(codes.byField);
  const rank = (issue: z.core.$ZodIssue) => {
    if (issue.code === 'unrecognized_keys') return -1;
    const index = fieldOrder.indexOf(String(issue.path[0] ?? ''));
    return index < 0 ? fieldOrder.length : index;
  };
  const issue = [...parsed.error.issues].sort((a, b) => rank(a) - rank(b))[0]!;
  if (issue.code === 'unrecognized_keys') {
    const key = issue.keys[0] ?? '';
    throw new ValidationError(codes.otherwise, codes.unknownKey ? codes.unknownKey(key) : `Unknown field '${printable(key)}'.`);
  }
  const field = codes.byField[String(issue.path[0] ?? '')] ?? codes.otherwise;
  if (typeof field === 'string') throw new ValidationError(field, issue.message);
  throw new ValidationError(field.code, field.message);
}
