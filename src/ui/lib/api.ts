/**
 * The UI's way to the HTTP API: every call carries the API key the user typed (kept in
 * sessionStorage: this browser tab's session only), and a 401 asks for one.
 */
import { signal } from "@preact/signals";

const KEY_STORAGE = "switchyard.apiKey";

/** The key typed in this session, or "". */
export const apiKey = signal<string>(sessionStorage.getItem(KEY_STORAGE) ?? "");
/** True when the server answered 401: the key prompt shows. */
export const needKey = signal(false);

/** Remember a key for this session (and retry what waits for it). */
export function setApiKey(key: string): void {
  apiKey.value = key;
  sessionStorage.setItem(KEY_STORAGE, key);
  needKey.value = false;
}

/** Headers with the key, when there is one: its UTF-8 bytes, one per character (fetch refuses a header character above U+00FF). */
export function authHeaders(extra: Record<string, string> = {}): Record<string, string> {
  return apiKey.value ? { ...extra, authorization: `Bearer ${String.fromCharCode(...new TextEncoder().encode(apiKey.value))}` } : extra;
}

/** An error the API answered, with its envelope's message. */
export class ApiError extends Error {
  constructor(
    readonly status: number,
    message: string,
  ) {
    super(message);
  }
}

/** fetch with the key; switchyard's own 401 raises the key prompt (a backend's 401, e.g. llama-server --api-key, is that request's error). */
export async function apiFetch(path: string, init: RequestInit = {}): Promise<Response> {
  const res = await fetch(path, { ...init, headers: authHeaders((init.headers as Record<string, string>) ?? {}) });
  if (res.status === 401 && (await isOwnAuthError(res))) needKey.value = true;
  return res;
}

/** Whether a 401 is switchyard's key check (`{"src":"switchyard","error":{"code":"invalid_api_key"}}`). */
async function isOwnAuthError(res: Response): Promise<boolean> {
  try {
    const body = (await res.clone().json()) as { src?: unknown; error?: { code?: unknown } };
    return body.src === "switchyard" && body.error?.code === "invalid_api_key";
  } catch {
    return false;
  }
}

/** GET (or send) and parse JSON; a non-2xx answer throws ApiError with the server's message. */
export async function apiJson<T>(path: string, init: RequestInit = {}): Promise<T> {
  const res = await apiFetch(path, init);
  if (!res.ok) throw new ApiError(res.status, await errorMessage(res));
  return (await res.json()) as T;
}

/** The message of an error answer (our OpenAI envelope, or the text). */
export async function errorMessage(res: Response): Promise<string> {
  const text = await res.text();
  try {
    const body = JSON.parse(text) as { error?: { message?: string } | string };
    if (typeof body.error === "string") return body.error;
    if (body.error?.message) return body.error.message;
  } catch {}
  return text || `${res.status} ${res.statusText}`;
}
