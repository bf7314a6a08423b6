/**
 * Issue 16 experiment (not part of `npm run bench`): what reading a real llama-server's log costs
 * the proxy per request. Each build given serves one tiny GGUF (test/fixtures/gguf.ts) on the
 * llama-server that scripts/llama-server.ts builds, two ways taking turns: "read" (llama-server's
 * output goes to switchyard, as it does for every model) and "devnull" (`sh -c "exec ... >
 * /dev/null"`, so switchyard reads nothing of it). 300 non-streamed 4-token chat completions of
 * warm-up, then 2,000 at concurrency 8; proxy CPU per request, requests per second, and the bytes
 * per request that reached `/logs` (switchyard's access line is about 100 of them).
 * Usage: bun llama-logs.ts <binary> [<binary> ...] [--rounds 2]
 */
import { findLlamaServer } from "../../llama-server.ts";
import { tinyModel } from "../../../test/fixtures/gguf.ts";
import { freePorts } from "../ports.ts";
import { cpuMsOf } from "../procfs.ts";
import { startSwitchyard } from "../switchyard.ts";

const args = process.argv.slice(2);
const roundsAt = args.indexOf("--rounds");
const rounds = roundsAt >= 0 ? Number(args[roundsAt + 1]) : 2;
const binaries = args.filter((a, i) => a !== "--rounds" && i !== roundsAt + 1);
const llama = findLlamaServer();
if (binaries.length === 0 || !llama) throw new Error(llama ? "usage: bun llama-logs.ts <binary> [<binary> ...] [--rounds 2]" : "no llama-server: build it with bun scripts/llama-server.ts");
const gguf = tinyModel({ seed: 1 });

async function measure(binary: string, variant: "read" | "devnull"): Promise<Record<string, number | string>> {
  const cmd = `${llama} -m ${gguf} --host 127.0.0.1 --port \${PORT} -c 2048 -np 8 -t 1 --no-warmup`;
  const config = `startPort: ${freePorts(1)}
healthCheckTimeout: 60
models:
  tiny:
    cmd: ${variant === "read" ? cmd : `sh -c "exec ${cmd} > /dev/null 2>&1"`}
    concurrencyLimit: 1000
`;
  const sy = await startSwitchyard(config, binary);
  try {
    const body = JSON.stringify({ model: "tiny", max_tokens: 4, messages: [{ role: "user", content: "hi" }] });
    const run = async (n: number): Promise<void> => {
      let sent = 0;
      await Promise.all(
        Array.from({ length: 8 }, async () => {
          while (sent++ < n) {
            const res = await fetch(`${sy.url}/v1/chat/completions`, { method: "POST", headers: { "content-type": "application/json" }, body });
            await res.arrayBuffer();
            if (res.status !== 200) throw new Error(`status ${res.status}`);
          }
        }),
      );
    };
    const logBytes = async (): Promise<number> => (await (await fetch(`${sy.url}/logs`)).text()).length;
    await run(300);
    const bytes0 = await logBytes();
    const cpu0 = cpuMsOf(sy.pid);
    const t0 = performance.now();
    await run(2000);
    const wallMs = performance.now() - t0;
    const cpuUs = ((cpuMsOf(sy.pid) - cpu0) * 1000) / 2000;
    return { binary, variant, cpuUsPerRequest: Math.round(cpuUs), requestsPerSecond: Math.round((2000 / wallMs) * 1000), logBytesPerRequest: Math.round(((await logBytes()) - bytes0) / 2000) };
  } finally {
    await sy.stop();
  }
}

for (let r = 1; r <= rounds; r++) {
  for (const binary of binaries) {
    for (const variant of ["read", "devnull"] as const) console.log(JSON.stringify({ round: r, ...(await measure(binary, variant)) }));
  }
}
