/**
 * The playground's model choice per tab reads `/v1/models` as switchyard now renders it (llama-swap's
 * shape): each record of the real list goes through capabilitiesOf.
 */
import { beforeAll, describe, expect, test } from "bun:test";
import type { ModelCapabilities } from "../../../src/config/types.ts";
import { createHttpContext } from "../../../src/http/context.ts";
import { listModels } from "../../../src/http/model-list.ts";
import { createFakeRouter, makeConfig, modelConfig, peerConfig, quietLogs } from "../../http/helpers.ts";

type CapabilitiesOf = typeof import("../../../src/ui/pages/playground-models.ts").capabilitiesOf;
let capabilitiesOf: CapabilitiesOf;

beforeAll(async () => {
  // The module's imports read the browser's storage when they load.
  const memory = (): Storage => {
    const m = new Map<string, string>();
    return { getItem: (k) => m.get(k) ?? null, setItem: (k, v) => void m.set(k, v), removeItem: (k) => void m.delete(k), clear: () => m.clear(), key: () => null, length: 0 };
  };
  Object.assign(globalThis, { sessionStorage: memory(), localStorage: memory() });
  ({ capabilitiesOf } = await import("../../../src/ui/pages/playground-models.ts"));
});

const caps = (c: Partial<ModelCapabilities>): ModelCapabilities => ({ in: [], out: [], tools: false, reranker: false, context: 0, ...c });

const rows: [string, Partial<ModelCapabilities> | null, string[] | null][] = [
  ["chat", { in: ["text"], out: ["text"] }, ["chat"]],
  ["vision-tools", { in: ["text", "image"], out: ["text"], tools: true }, ["chat"]],
  ["tools-only", { tools: true }, ["chat"]],
  ["tts", { in: ["text"], out: ["audio"] }, ["speech"]],
  ["stt", { in: ["audio"], out: ["text"] }, ["transcription"]],
  ["sd", { in: ["text"], out: ["image"] }, ["images"]],
  ["img2img", { in: ["image"], out: ["image"] }, ["images"]],
  ["omni", { in: ["text", "audio", "image"], out: ["text", "audio", "image"] }, ["chat", "images", "speech", "transcription"]],
  ["reranker", { reranker: true }, ["rerank"]],
  // Declaring only a context, or nothing, declares no capability: the playground counts it as chat.
  ["context-only", { context: 8192 }, null],
  ["plain", null, null],
];

describe("playground tabs from /v1/models", () => {
  test("each model's declared capabilities choose its tabs", () => {
    const ctx = createHttpContext({
      config: makeConfig(
        rows.map(([id, c]) => modelConfig(id, c ? { capabilities: caps(c) } : {})),
        { peers: { p: peerConfig("p", "http://127.0.0.1:1", ["remote"]) } },
      ),
      router: createFakeRouter({}),
      logs: quietLogs(),
      version: { version: "t", commit: "t", date: "t" },
    });
    const got = Object.fromEntries(listModels(ctx).data.map((rec) => [rec.id, capabilitiesOf(JSON.parse(JSON.stringify(rec)))]));
    for (const [id, , want] of rows) {
      const tabs: string[] | null = got[id] ? [...got[id]!].sort() : null;
      expect({ id, tabs }).toEqual({ id, tabs: want });
    }
    expect(got["p/remote"]).toBeNull();
  });
});
