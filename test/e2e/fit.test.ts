/**
 * The fit router end to end: dist/switchyard with simulated models of 6, 6 and 10 GiB (declared)
 * on a declared 16 GiB device, under 20 clients of alternating streaming traffic. The two 6 GiB
 * models stay resident together (no swap), a request for the 10 GiB model evicts the least
 * recently used one, nothing fails or is cut, /running shows the numbers, and a model bigger than
 * the device is refused with 503 and its numbers.
 */
import { afterAll, beforeAll, describe, expect, test } from "bun:test";
import { freePortRange } from "../fixtures/ports.ts";
import { waitFor } from "../fixtures/wait.ts";
import { ensureBinary, sseData, startBinary, type Running } from "./harness.ts";

const GiB = 1024 ** 3;
const CONFIG = `
startPort: ${freePortRange(4)}
routing:
  router:
    use: fit
    settings:
      fit:
        devices:
          - { id: cpu, memory: 16GiB }
        stateFile: ""
models:
  six-a:
    cmd: \${SWITCHYARD} simulate --port \${PORT} --model six-a --tokens 12 --tps 200 --memory-mb 16
    memory: 6GiB
    concurrencyLimit: 40
  six-b:
    cmd: \${SWITCHYARD} simulate --port \${PORT} --model six-b --tokens 12 --tps 200
    memory: 6GiB
    concurrencyLimit: 40
  ten:
    cmd: \${SWITCHYARD} simulate --port \${PORT} --model ten --tokens 5
    memory: 10GiB
  huge:
    cmd: \${SWITCHYARD} simulate --port \${PORT} --model huge
    memory: 20GiB
`;

interface Running_ {
  running: { model: string; state: string; memory?: { bytes: number; perDevice: Record<string, number>; source: string } }[];
  devices: { id: string; total: number; usedByModels: number; free: number; reserve: number }[];
}

describe("routing.router.use: fit (dist/switchyard)", () => {
  let sy: Running;
  beforeAll(async () => {
    await ensureBinary();
    sy = await startBinary(CONFIG);
  });
  afterAll(async () => {
    await sy?.stop("SIGTERM");
  });

  const chat = (model: string) =>
    fetch(`${sy.url}/v1/chat/completions`, { method: "POST", headers: { "content-type": "application/json" }, body: JSON.stringify({ model, stream: true, messages: [{ role: "user", content: "hi" }] }) });
  const running = async (): Promise<Running_> => (await (await fetch(`${sy.url}/running`)).json()) as Running_;
  const ready = async (): Promise<string[]> => (await running()).running.filter((r) => r.state === "ready").map((r) => r.model).sort();

  test("20 clients alternating over the two 6 GiB models: both stay resident, no swap, nothing failed or cut", async () => {
    const one = async (i: number, j: number): Promise<string> => {
      const res = await chat((i + j) % 2 === 0 ? "six-a" : "six-b");
      if (res.status !== 200) return `status ${res.status}`;
      const data = await sseData(res);
      if (data.at(-1) !== "[DONE]") return "truncated";
      return data.some((d) => d.includes('"error"')) ? "error event" : "ok";
    };
    const results = (await Promise.all(Array.from({ length: 20 }, async (_, i) => Promise.all([0, 1, 2].map((j) => one(i, j)))))).flat();
    expect(results.filter((r) => r !== "ok")).toEqual([]);
    expect(results).toHaveLength(60);
    expect(await ready()).toEqual(["six-a", "six-b"]);
    // Each model started once: the two fit side by side.
    await waitFor(() => (sy.output().match(/fit: six-b needs/g)?.length ?? 0) >= 1, 10_000, "the placement lines");
    expect(sy.output().match(/fit: six-a needs/g)?.length).toBe(1);
    expect(sy.output().match(/fit: six-b needs/g)?.length).toBe(1);
  }, 120_000);

  test("/running shows each model's memory and the device's budget", async () => {
    const r = await running();
    const a = r.running.find((m) => m.model === "six-a")!;
    expect(a.memory).toEqual({ bytes: 6 * GiB, perDevice: { cpu: 6 * GiB }, source: "declared" });
    expect(r.devices).toEqual([expect.objectContaining({ id: "cpu", total: 16 * GiB, usedByModels: 12 * GiB, free: 4 * GiB, reserve: 0 })]);
    // The models API (/api/events' modelStatus) carries each model's figure too.
    const abort = new AbortController();
    const events = await fetch(`${sy.url}/api/events`, { signal: abort.signal });
    const reader = events.body!.getReader();
    let text = "";
    while (!text.includes('"type":"modelStatus"')) text += new TextDecoder().decode((await reader.read()).value);
    abort.abort();
    const line = text.split("\n").find((l) => l.includes('"type":"modelStatus"'))!;
    const status = JSON.parse(JSON.parse(line.slice("data:".length)).data) as { id: string; memory?: { bytes: number; source: string } }[];
    expect(status.find((m) => m.id === "ten")!.memory).toEqual({ bytes: 10 * GiB, source: "declared" });
    const metrics = await (await fetch(`${sy.url}/metrics`)).text();
    expect(metrics).toContain(`switchyard_model_memory_bytes{model="six-a",source="declared",resident="true"} ${6 * GiB}`);
    expect(metrics).toContain(`switchyard_device_memory_bytes{device="cpu",kind="free"} ${4 * GiB}`);
    const promtool = Bun.which("promtool");
    if (!promtool) {
      if (process.env.CI) throw new Error("promtool missing: apt-get install prometheus");
      return;
    }
    const p = Bun.spawnSync([promtool, "check", "metrics"], { stdin: new TextEncoder().encode(metrics), stdout: "pipe", stderr: "pipe" });
    const complaints = `${p.stdout}${p.stderr}`.split("\n").filter((l) => l !== "" && !/^vllm:\w+ metric names should not contain ':'$/.test(l));
    expect(complaints).toEqual([]);
  });

  test("the 10 GiB model evicts the least recently used 6 GiB one", async () => {
    await (await chat("six-b")).text();
    await (await chat("six-a")).text(); // six-b is now the least recently used
    const res = await chat("ten");
    expect(res.status).toBe(200);
    expect((await sseData(res)).at(-1)).toBe("[DONE]");
    expect(await ready()).toEqual(["six-a", "ten"]);
    // The log is written in batches: wait for the line.
    await waitFor(() => sy.output().includes("fit: ten needs 10.00 GiB on cpu (4.00 GiB free) [declared]; evicting six-b (6.00 GiB, idle"), 10_000, "the eviction line");
  }, 60_000);

  test("a model bigger than the device is refused at once with 503 and the numbers", async () => {
    const res = await chat("huge");
    expect(res.status).toBe(503);
    const body = (await res.json()) as { error: { message: string; code: string } };
    expect(body.error.code).toBe("model_does_not_fit");
    expect(body.error.message).toBe("model huge needs 20.00 GiB on cpu, more than any device holds even when empty (largest budget 16.00 GiB)");
  });
});
