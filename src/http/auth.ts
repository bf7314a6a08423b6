/**
 * API-key auth: when `apiKeys` is set, a key must come from `Authorization: Basic`
 * (the password part, so browsers can log in), `Authorization: Bearer`, or `x-api-key`.
 * Keys are compared in constant time and never logged.
 */
import { errorResponse } from "./errors.ts";

/** The key a request presents, or null. */
export function extractApiKey(headers: Headers): string | null {
  const auth = headers.get("authorization")?.trim() ?? "";
  const space = auth.indexOf(" ");
  const scheme = space === -1 ? auth.toLowerCase() : auth.slice(0, space).toLowerCase();
  const value = space === -1 ? "" : auth.slice(space + 1).trim();
  if (scheme === "basic" && value) {
    try {
      const decoded = atob(value);
      const colon = decoded.indexOf(":");
      if (colon !== -1) return decoded.slice(colon + 1);
    } catch {
      // not base64: fall through to the other sources
    }
  }
  if (scheme === "bearer" && value) return value;
  return headers.get("x-api-key") ?? null;
}

const encoder = new TextEncoder();

/** Compare two strings in time that depends only on their lengths' maximum. */
export function constantTimeEqual(a: string, b: string): boolean {
  return sameBytes(encoder.encode(a), encoder.encode(b));
}

/** Compare two byte strings in time that depends only on their lengths' maximum. */
function sameBytes(x: Uint8Array, y: Uint8Array): boolean {
  const n = Math.max(x.length, y.length);
  let diff = x.length ^ y.length;
  for (let i = 0; i < n; i++) diff |= (x[i] ?? 0) ^ (y[i] ?? 0);
  return diff === 0;
}

/**
 * The bytes of a key as a request presents it. Header values (and atob's answer for Basic) are
 * byte strings, one character per byte: a UTF-8 key arrives as its bytes read as Latin-1, and
 * encoding that again as UTF-8 would never match the configured key (llama-swap compares bytes).
 */
export function presentedBytes(key: string): Uint8Array {
  const out = new Uint8Array(key.length);
  for (let i = 0; i < key.length; i++) out[i] = key.charCodeAt(i) & 0xff;
  return out;
}

/** A check that returns null to let the request through, or the 401 response. */
export function createAuthCheck(apiKeys: readonly string[]): (request: Request) => Response | null {
  if (apiKeys.length === 0) return () => null;
  const keys = apiKeys.map((k) => encoder.encode(k));
  return (request) => {
    const key = extractApiKey(request.headers);
    let ok = false;
    // Every key is compared, so the time does not reveal which one matched.
    if (key !== null) {
      const presented = presentedBytes(key);
      for (const k of keys) ok = sameBytes(presented, k) || ok;
    }
    if (ok) return null;
    // A page's own fetch() (Sec-Fetch-Mode other than navigate) gets no Basic challenge: the
    // browser would answer it with its native login dialog (headless: a hang) instead of
    // letting the web UI ask for the key itself. Navigations and non-browser clients get it.
    const mode = request.headers.get("sec-fetch-mode");
    const challenge = mode === null || mode === "navigate";
    return errorResponse(401, "unauthorized: invalid or missing API key", {
      code: "invalid_api_key",
      headers: challenge ? { "www-authenticate": 'Basic realm="switchyard"' } : {},
    });
  };
}
