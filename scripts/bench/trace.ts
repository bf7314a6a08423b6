/**
 * The scheduler trace: a fixed, seeded list of requests per client. Clients are closed loops: each
 * sends its next request a think time after its previous answer ended. Most clients stick to one
 * model; some alternate between two, which is what makes a naive scheduler thrash.
 */

/** mulberry32: a small seeded PRNG returning floats in [0, 1). */
export function prng(seed: number): () => number {
  let a = seed >>> 0;
  return () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

/** One request of the trace. */
export interface TraceRequest {
  model: string;
  maxTokens: number;
  /** Pause before sending it (after the client's previous answer, or from the start). */
  thinkMs: number;
}

/** One client's requests, in order. */
export interface TraceClient {
  id: number;
  kind: "sticky" | "alternating";
  requests: TraceRequest[];
}

/** Shape of a trace. */
export interface TraceOptions {
  seed: number;
  clients: number;
  /** Of `clients`, how many alternate between two models (the last ones). */
  alternating: number;
  requestsPerClient: number;
  models: string[];
  /** Think time range between a client's requests (ms). */
  thinkMs: [number, number];
  /** The first request of each client is sent within this many ms of the start. */
  startSpreadMs: number;
}

/** Build the trace: short answers mostly (16-96 tokens), a long one (200-500) three times in ten. */
export function buildTrace(o: TraceOptions): TraceClient[] {
  const rnd = prng(o.seed);
  const between = (lo: number, hi: number) => Math.round(lo + rnd() * (hi - lo));
  const out: TraceClient[] = [];
  for (let c = 0; c < o.clients; c++) {
    const alternating = c >= o.clients - o.alternating;
    const home = o.models[c % o.models.length]!;
    const other = o.models[(c + 1) % o.models.length]!;
    const requests: TraceRequest[] = [];
    for (let i = 0; i < o.requestsPerClient; i++) {
      requests.push({
        model: alternating && i % 2 === 1 ? other : home,
        maxTokens: rnd() < 0.3 ? between(200, 500) : between(16, 96),
        thinkMs: i === 0 ? between(0, o.startSpreadMs) : between(o.thinkMs[0], o.thinkMs[1]),
      });
    }
    out.push({ id: c, kind: alternating ? "alternating" : "sticky", requests });
  }
  return out;
}
