/** One non-streamed playground request (images, speech, transcription, rerank): busy, error, cancel and run id as signals. */
import { signal, type Signal } from "@preact/signals";
import { apiFetch, errorMessage } from "../lib/api.ts";
import { newRunId, playgroundHeaders } from "./playground-stream.ts";

/** The live state of a tab's request. */
export interface MediaRun {
  busy: Signal<boolean>;
  error: Signal<string>;
  runId: Signal<string>;
  startedAt: Signal<number>;
  /** Milliseconds the last request took, or null. */
  tookMs: Signal<number | null>;
  controller: AbortController | null;
}

/** A fresh MediaRun (one per tab, at module level). */
export function mediaRun(): MediaRun {
  return { busy: signal(false), error: signal(""), runId: signal(""), startedAt: signal(0), tookMs: signal(null), controller: null };
}

/** Send `init` to `path`; `read` handles a 2xx answer. Any failure lands in `run.error`. */
export async function runRequest(run: MediaRun, path: string, init: RequestInit, read: (res: Response) => Promise<void>): Promise<void> {
  if (run.busy.value) return;
  const id = newRunId();
  const ctl = new AbortController();
  run.controller = ctl;
  run.runId.value = id;
  run.error.value = "";
  run.tookMs.value = null;
  run.startedAt.value = performance.now();
  run.busy.value = true;
  try {
    const res = await apiFetch(path, { ...init, signal: ctl.signal, headers: playgroundHeaders(id, (init.headers as Record<string, string>) ?? {}) });
    if (!res.ok) run.error.value = `${res.status}: ${await errorMessage(res)}`;
    else await read(res);
  } catch (err) {
    const msg = err instanceof Error ? err.message : String(err);
    // fetch fails with a TypeError when the network does; anything else is a bad answer.
    run.error.value = ctl.signal.aborted ? "cancelled" : err instanceof TypeError ? `network error: ${msg}` : `bad answer: ${msg}`;
  } finally {
    run.tookMs.value = performance.now() - run.startedAt.value;
    run.busy.value = false;
    run.controller = null;
  }
}

/** Cancel the tab's request. */
export function cancelRun(run: MediaRun): void {
  run.controller?.abort();
}
