/**
 * Requests forwarded to peers, held like a grant each: peers are not scheduled, but a shutdown must
 * treat them as the router treats local models. New ones are refused (`shutting_down`) once it
 * begins, those in flight are waited for up to `drainTimeout`, and laggards are then severed
 * in-band (the proxy writes the error event, as for a local drain). Web-standard.
 */
import { RouteError, type Grant } from "../router/types.ts";

/** The peer requests of one server. */
export interface PeerRequests {
  /** Hold one for a request: `done()` when it ends (idempotent). Throws RouteError("shutting_down") once the shutdown began. */
  acquire(): Pick<Grant, "done" | "severed">;
  /** Requests held now. */
  inFlight(): number;
  /** Refuse new requests; resolve once none is in flight, severing those still running after `drainMs`. */
  shutdown(drainMs: number): Promise<void>;
}

/** Create the peer request holds. */
export function createPeerRequests(): PeerRequests {
  const live = new Set<AbortController>();
  let closing = false;
  let emptied: (() => void) | null = null;
  return {
    acquire() {
      if (closing) throw new RouteError("shutting_down", "switchyard is shutting down");
      const sever = new AbortController();
      live.add(sever);
      return {
        severed: sever.signal,
        done() {
          if (!live.delete(sever)) return;
          if (live.size === 0) emptied?.();
        },
      };
    },
    inFlight: () => live.size,
    async shutdown(drainMs) {
      closing = true;
      if (live.size === 0) return;
      const empty = new Promise<void>((resolve) => (emptied = resolve));
      const timer = setTimeout(() => {
        const reason = new RouteError("severed", `switchyard is shutting down and the drain timeout (${drainMs / 1000}s) passed: the response was cut`);
        for (const s of live) s.abort(reason);
      }, drainMs);
      await empty;
      clearTimeout(timer);
    },
  };
}
