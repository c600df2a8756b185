// Face Quick Link: `POST <endpoint>/api/quicklink` with a liveness session's auth token (Bearer) answers a single-use
// hosted-page path `{ "url": "/?s=<id>" }`. The answer is checked by schema before it is used (a Face answer is never
// trusted as data); a failure or a malformed answer is Face being unavailable (503 to the caller, retried by them).
import { z } from 'zod';
import { FaceAnswerInvalidError, FaceUnavailableError } from '../../core/errors.js';
import type { QuickLinks } from '../../core/ports.js';

const answerSchema = z.object({ url: z.string().regex(/^\/\?s=[A-Za-z0-9._~-]{1,256}$/) });

export class HttpQuickLinks implements QuickLinks {
  constructor(private readonly options: { endpoint: string; timeoutMs: number }) {}

  async create(authToken: string): Promise<string> {
    let response: Response;
    try {
      response = await fetch(`${this.options.endpoint}/api/quicklink`, {
        method: 'POST',
        headers: { authorization: `Bearer ${authToken}`, 'content-type': 'application/json' },
        body: '{}',
        signal: AbortSignal.timeout(this.options.timeoutMs),
        redirect: 'error',
      });
    } catch (error) {
      throw new FaceUnavailableError('Face Quick Link could not be reached.', 5, undefined, { cause: error });
    }
    if (!response.ok) throw new FaceUnavailableError(`Face Quick Link answered ${response.status}.`, 5, response.status);
    const parsed = answerSchema.safeParse(await response.json().catch(() => undefined));
    if (!parsed.success) throw new FaceAnswerInvalidError('Face Quick Link answered something that is not a hosted-page link.');
    return new URLSearchParams(parsed.data.url.slice(1)).get('s')!;
  }
}
