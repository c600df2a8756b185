// The dev host's short path for `{ status, jsonBody, headers }` results must give the answer the library's HttpResponse
// gives (status, headers, body bytes), and must step aside for anything it does not handle exactly.
import fc from 'fast-check';
import { HttpResponse } from '@azure/functions';
import { describe, expect, it } from 'vitest';
import { plainJsonAnswer } from '../../dev/host/http.js';
import { useTestSeed } from '../support/seed.js';

const SEED = useTestSeed(import.meta.url);

async function libraryAnswer(init: object): Promise<{ status: number; headers: Record<string, string>; body: Buffer }> {
  const response = new HttpResponse(init as ConstructorParameters<typeof HttpResponse>[0]);
  const headers: Record<string, string> = {};
  response.headers.forEach((value, key) => { headers[key] = value; });
  return { status: response.status, headers, body: Buffer.from(await response.arrayBuffer()) };
}

const headerName = fc.stringMatching(/^[A-Za-z][A-Za-z0-9-]{0,15}$/);
const headerValue = fc.oneof(fc.stringMatching(/^[!-~]([ -~]{0,30}[!-~])?$/), fc.constantFrom('application/problem+json', 'no-store', '/api/x?y=1'));

describe('dev host: plain JSON answers', () => {
  it('match the library: status, headers (lower case, in order, content-type added), JSON text', async () => {
    await fc.assert(fc.asyncProperty(
      fc.record({
        status: fc.option(fc.integer({ min: 200, max: 599 }).filter((s) => s !== 204 && s !== 205 && s !== 304), { nil: undefined }),
        jsonBody: fc.jsonValue().filter((v) => v !== null),
        headers: fc.option(fc.dictionary(headerName, headerValue, { maxKeys: 6 }), { nil: undefined }),
      }, { requiredKeys: ['jsonBody'] }),
      async (init) => {
        const plain = plainJsonAnswer(init);
        const expected = await libraryAnswer(init);
        // Two names differing only in case would be merged by Headers: the short path steps aside for those.
        if (!plain) {
          const names = Object.keys(init.headers ?? {}).map((n) => n.toLowerCase());
          expect(new Set(names).size).toBeLessThan(names.length);
          return;
        }
        expect({ ...plain, headers: Object.entries(plain.headers) }).toEqual({ ...expected, headers: Object.entries(expected.headers) });
      },
    ), { seed: SEED, numRuns: 300 });
  });

  it('steps aside for what it does not handle exactly', () => {
    for (const init of [
      { status: 200, body: 'text' },
      { status: 204, jsonBody: { a: 1 } },
      { status: 200, jsonBody: null },
      { status: 200, jsonBody: { a: 1 }, cookies: [{ name: 'a', value: 'b' }] },
      { status: 200, jsonBody: { a: 1 }, headers: { 'set-cookie': 'a=b' } },
      { status: 200, jsonBody: { a: 1 }, headers: { 'x-a': ' padded ' } },
      { status: 200, jsonBody: { a: 1 }, headers: new Headers({ 'x-a': 'b' }) },
      { status: 99, jsonBody: { a: 1 } },
      { status: 200, jsonBody: () => 1 },
    ]) expect(plainJsonAnswer(init), JSON.stringify(init)).toBeUndefined();
  });
});
