/**
 * Issue 16 experiment (not part of `npm run bench`): nanoseconds per call of the native calls a
 * proxied request makes (timers, abort controllers and listeners, headers, URLs, responses, dates),
 * each alone in a loop after a warm-up. Usage: bun primitive-costs.ts [calls=200000].
 */
const calls = Number(process.argv[2] ?? 200_000);

function time(name: string, f: () => void): void {
  for (let i = 0; i < 20_000; i++) f();
  const t0 = performance.now();
  for (let i = 0; i < calls; i++) f();
  console.log(`${name.padEnd(40)} ${Math.round(((performance.now() - t0) * 1e6) / calls)} ns`);
}

const noop = (): void => {};
const headers = new Headers({ "content-type": "application/json", "content-length": "123", host: "x", "user-agent": "Bun/1.4.5", accept: "*/*", "accept-encoding": "gzip" });
const bytes = new Uint8Array(300);
time("setTimeout + clearTimeout", () => clearTimeout(setTimeout(noop, 30_000)));
time("new AbortController (and its signal)", () => void new AbortController().signal);
time("the same, a listener added and removed", () => {
  const c = new AbortController();
  c.signal.addEventListener("abort", noop, { once: true });
  c.signal.removeEventListener("abort", noop);
});
time("performance.now()", () => void performance.now());
time("new Date().toISOString()", () => void new Date().toISOString());
time("new Headers(headers)", () => void new Headers(headers));
time("new URL(...)", () => void new URL("http://127.0.0.1:9310/v1/chat/completions"));
time("new Response(300 bytes, headers)", () => void new Response(bytes, { status: 200, headers }));
