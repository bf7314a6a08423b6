/** Issue 16 experiment: <n> streamed chat completions, <conc> at a time, against <url>; prints complete streams and MB. */
const url = process.argv[2]!; const n = Number(process.argv[3]); const conc = Number(process.argv[4]);
const body = JSON.stringify({ model: "m", stream: true, messages: [{ role: "user", content: "hi" }] });
let done = 0;
let bytes = 0;
let started = 0;
await Promise.all(Array.from({ length: conc }, async () => {
  while (started < n) { started++;
    const res = await fetch(url + "/v1/chat/completions", { method: "POST", headers: { "content-type": "application/json" }, body });
    const t = await res.text(); bytes += t.length; if (t.includes("[DONE]")) done++;
  }
}));
console.log(JSON.stringify({ done, mb: Math.round(bytes / 1e6) }));
export {};
