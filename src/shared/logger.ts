// Logger over InvocationContext: structured fields, and a redaction pass so that secrets and biometrics never reach
// logs even if a caller passes them by mistake (keys, tokens, image bytes, connection strings).
import type { InvocationContext } from '@azure/functions';
import type { Logger } from '../core/ports.js';

const SECRET_FIELD = /token|key|secret|password|authorization|connectionstring|signature|image(bytes)?$|bytes/i;
const SECRET_TEXT: Array<[RegExp, string]> = [
  [/eyJ[A-Za-z0-9_-]{8,}\.[A-Za-z0-9_-]{8,}(\.[A-Za-z0-9_-]*)?/g, '[redacted-jwt]'],
  [/(AccountKey|SharedAccessSignature|sig)=[^;&\s]+/gi, '$1=[redacted]'],
  [/(Bearer\s+)[^\s,;]+/gi, '$1[redacted]'],
];

export function redactText(text: string): string {
  return SECRET_TEXT.reduce((t, [pattern, replacement]) => t.replace(pattern, replacement), text);
}

export function redactFields(fields: Record<string, unknown> | undefined): Record<string, unknown> | undefined {
  if (!fields) return undefined;
  const out: Record<string, unknown> = {};
  for (const [k, v] of Object.entries(fields)) {
    if (SECRET_FIELD.test(k)) out[k] = '[redacted]';
    else if (v instanceof Uint8Array || ArrayBuffer.isView(v)) out[k] = `[${(v as Uint8Array).byteLength} bytes]`;
    else if (typeof v === 'string') out[k] = redactText(v);
    else out[k] = v;
  }
  return out;
}

function line(message: string, fields?: Record<string, unknown>): string {
  const safe = redactFields(fields);
  return safe && Object.keys(safe).length ? `${redactText(message)} ${JSON.stringify(safe)}` : redactText(message);
}

export function contextLogger(context: InvocationContext): Logger {
  return {
    info: (message, fields) => context.info(line(message, fields)),
    warn: (message, fields) => context.warn(line(message, fields)),
    error: (message, fields) => context.error(line(message, fields)),
  };
}
