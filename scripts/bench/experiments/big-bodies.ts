/**
 * Issue 16 experiment (not part of `npm run bench`): proxy CPU per request for the big request
 * bodies coding agents send, through one or more switchyard builds taking turns. Two bodies of
 * about 128 KB: "code" (source code as JSON strings, full of escaped quotes, plus 20 tool
 * definitions) and "prose" (40 chat turns of plain text), each a non-streamed chat completion
 * that the simulator answers with 16 tokens; 1,000 requests of warm-up, then 4,000 at
 * concurrency 16, per build, body and round.
 * Usage: bun big-bodies.ts <binary> [<binary> ...] [--rounds 3]
 */
import { cpuMsOf } from "../procfs.ts";
import { startSwitchyard } from "../switchyard.ts";
import { loadModel, oneModelConfig } from "../scenarios/overhead.ts";

const args = process.argv.slice(2);
const roundsAt = args.indexOf("--rounds");
const rounds = roundsAt >= 0 ? Number(args[roundsAt + 1]) : 3;
const binaries = args.filter((a, i) => a !== "--rounds" && i !== roundsAt + 1);
if (binaries.length === 0) throw new Error("usage: bun big-bodies.ts <binary> [<binary> ...] [--rounds 3]");

const code = 'function add(a, b) {\n  return a + b; // "quoted" \\ backslash\n}\n'.repeat(1500);
const prose = "The quick brown fox jumps over the lazy dog, and then it keeps running through the field. ".repeat(36);
const tools = Array.from({ length: 20 }, (_, i) => ({ type: "function", function: { name: `tool${i}`, parameters: { type: "object", properties: { a: { type: "string" } } } } }));
const bodies: Record<string, string> = {
  code: JSON.stringify({ model: "bench", stream: false, max_tokens: 16, messages: [{ role: "system", content: "You are a coding agent." }, { role: "user", content: code }, { role: "assistant", content: code.slice(0, 20_000) }], tools }),
  prose: JSON.stringify({ model: "bench", stream: false, max_tokens: 16, messages: Array.from({ length: 40 }, (_, i) => ({ role: i % 2 ? "assistant" : "user", content: prose })) }),
};

/** CPU per request (µs) of one fresh switchyard from `binary` for `body`. */
async function measure(binary: string, body: string): Promise<number> {
  const sy = await startSwitchyard(oneModelConfig(["--model", "bench", "--tps", "0", "--tokens", "16"]), binary);
  try {
    await loadModel(sy);
    const url = `${sy.url}/v1/chat/completions`;
    const run = async (n: number): Promise<void> => {
      let sent = 0;
      await Promise.all(
        Array.from({ length: 16 }, async () => {
          while (sent++ < n) {
            const res = await fetch(url, { method: "POST", headers: { "content-type": "application/json" }, body });
            await res.arrayBuffer();
            if (res.status !== 200) throw new Error(`status ${res.status}`);
          }
        }),
      );
    };
    await run(1000);
    const before = cpuMsOf(sy.pid);
    await run(4000);
    return Math.round(((cpuMsOf(sy.pid) - before) * 1000) / 4000);
  } finally {
    await sy.stop();
  }
}

for (const [name, body] of Object.entries(bodies)) console.log(`${name}: ${body.length} bytes`);
for (let r = 1; r <= rounds; r++) {
  for (const [name, body] of Object.entries(bodies)) {
    for (const binary of binaries) console.log(JSON.stringify({ round: r, body: name, binary, cpuUsPerRequest: await measure(binary, body) }));
  }
}
