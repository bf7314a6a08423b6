/**
 * Client for the many-streams e2e test, run as its own process: the test runner's fetch is itself
 * capped at 256 requests at once, so the load must come from a process started with a higher
 * BUN_CONFIG_MAX_HTTP_REQUESTS. Prints how many streams got their headers only after another
 * stream had already ended (0 = every stream started at once).
 */
const [url, countArg] = process.argv.slice(2);
const count = Number(countArg);
let firstEnd = Infinity;
const body = JSON.stringify({ model: "m", stream: true, messages: [{ role: "user", content: "hi" }] });
const headersAt = await Promise.all(
  Array.from({ length: count }, async () => {
    const res = await fetch(`${url}/v1/chat/completions`, { method: "POST", headers: { "content-type": "application/json" }, body });
    const at = performance.now();
    const text = await res.text();
    if (res.status !== 200 || !text.includes("[DONE]")) throw new Error(`stream failed: ${res.status} ${text.slice(0, 200)}`);
    firstEnd = Math.min(firstEnd, performance.now());
    return at;
  }),
);
console.log(JSON.stringify({ late: headersAt.filter((t) => t > firstEnd).length }));
export {};
