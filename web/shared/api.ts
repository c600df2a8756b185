// Calls to the function app's HTTP API with a bearer token. Errors arrive as {"error": {"code", "message"}} and
// become ApiError, so a page can show the message and branch on the code. The API's shapes are generated from its
// OpenAPI document (api-schema.gen.ts, by `npm run build`), never written by hand here.
import type { components } from './api-schema.gen.js';

/** The API's schemas by name (LivenessSession, SubjectExport, …), as the OpenAPI document defines them. */
export type Schemas = components['schemas'];

export class ApiError extends Error {
  constructor(readonly status: number, readonly code: string, message: string) {
    super(message);
  }
}

export async function apiFetch(url: string, token: string, init: RequestInit = {}): Promise<Response> {
  let response: Response;
  try {
    response = await fetch(url, { ...init, headers: { ...(init.headers as Record<string, string> | undefined), authorization: `Bearer ${token}` } });
  } catch {
    throw new ApiError(0, 'NetworkError', 'The service could not be reached. Check your connection and try again.');
  }
  if (response.ok) return response;
  const body = (await response.json().catch(() => undefined)) as Partial<Schemas['ErrorResponse']> | undefined;
  throw new ApiError(response.status, body?.error?.code ?? `HTTP${response.status}`, body?.error?.message ?? `The service answered ${response.status}.`);
}

export async function apiJson<T>(url: string, token: string, init: RequestInit = {}): Promise<T> {
  return (await (await apiFetch(url, token, init)).json()) as T;
}
