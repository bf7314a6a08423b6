/**
 * Issue 16 experiment (not part of `npm run bench`): CPU and wall time of one activity record of a
 * non-streamed chat completion, begin to end (usage parsed from the body, metrics and the event
 * broadcast attached as in serve mode, no listener). Usage: bun activity-records.ts [records=300000] [words=16].
 */
import { createActivityLog } from "../../../src/observe/activity.ts";
import { createBroadcast } from "../../../src/observe/broadcast.ts";
import type { ObserveEvent } from "../../../src/observe/events.ts";
import { createMetrics } from "../../../src/observe/metrics.ts";

const records = Number(process.argv[2] ?? 300_000);
const words = Number(process.argv[3] ?? 16);
const events = createBroadcast<ObserveEvent>();
const metrics = createMetrics({ models: () => [], rssBytes: () => 0, system: () => null, now: Date.now, memory: () => null });
const activity = createActivityLog({
  maxInMemory: 1000,
  captures: null,
  onInflight: (update) => events.publish({ type: "inflight", update }),
  wantsInflight: () => events.size > 0,
  sink: (record) => {
    metrics.observe({ type: "activity", record });
    events.publish({ type: "activity", record });
  },
});
const answer = {
  id: "chatcmpl-1",
  object: "chat.completion",
  created: 1,
  model: "m",
  choices: [{ index: 0, message: { role: "assistant", content: "word ".repeat(words) }, finish_reason: "stop" }],
  usage: { prompt_tokens: 5, completion_tokens: 16, total_tokens: 21 },
  timings: { prompt_n: 5, prompt_ms: 1, predicted_n: 16, predicted_ms: 10, prompt_per_second: 5000, predicted_per_second: 1600 },
};
const body = new TextEncoder().encode(JSON.stringify(answer));
const reqHeaders = new Headers({ "content-type": "application/json", "user-agent": "bench" });
const respHeaders = new Headers({ "content-type": "application/json" });

function one(): void {
  const a = activity.begin({ model: "m", peer: "", path: "/v1/chat/completions", client: "127.0.0.1", bytesIn: 60, streamed: false, method: "POST", headers: reqHeaders, body, cancel: () => {} });
  a.granted();
  a.response(200, "application/json", respHeaders);
  a.chunk(body);
  a.end("ok");
}

for (let i = 0; i < 50_000; i++) one();
const cpu0 = process.cpuUsage();
const wall0 = performance.now();
for (let i = 0; i < records; i++) one();
const cpu = process.cpuUsage(cpu0);
console.log(JSON.stringify({ records, words, cpuUsPerRecord: +((cpu.user + cpu.system) / records).toFixed(2), wallUsPerRecord: +(((performance.now() - wall0) * 1000) / records).toFixed(2) }));
