/**
 * `/v1/models` against llama-swap's own tables (internal/server/api_test.go: HandleListModels,
 * _PeerNamespaces, _Aliases, _Status, _Capabilities, ModelStatus_Capabilities), restated as data.
 */
import { describe, expect, test } from "bun:test";
import type { ModelCapabilities, ModelConfig } from "../../src/config/types.ts";
import { modelStatus } from "../../src/http/api-events.ts";
import { createHttpContext } from "../../src/http/context.ts";
import { listModels, type ModelRecord } from "../../src/http/model-list.ts";
import type { Supervisor } from "../../src/process/types.ts";
import { createFakeRouter, fakeSupervisor, makeConfig, modelConfig, peerConfig, quietLogs } from "./helpers.ts";

const NO_CAPS: ModelCapabilities = { in: [], out: [], tools: false, reranker: false, context: 0 };
const caps = (c: Partial<ModelCapabilities>): ModelCapabilities => ({ ...NO_CAPS, ...c });

function context(models: ModelConfig[], over: Parameters<typeof makeConfig>[1] = {}, states: Record<string, Supervisor["state"]> = {}) {
  const sups = new Map(Object.entries(states).map(([id, s]) => [id, fakeSupervisor(id, s)]));
  return createHttpContext({
    config: makeConfig(models, over),
    router: createFakeRouter({}),
    logs: quietLogs(),
    version: { version: "t", commit: "t", date: "t" },
    models: sups,
    now: () => 1_750_000_000_500,
  });
}

const ids = (data: ModelRecord[]): string[] => data.map((d) => d.id);

describe("the list (llama-swap's TestServer_HandleListModels*)", () => {
  test("listed models and peer models; unlisted ones are left out", () => {
    const ctx = context([modelConfig("visible", { name: "Visible", description: "a model" }), modelConfig("hidden", { unlisted: true })], {
      peers: { peer1: peerConfig("peer1", "http://127.0.0.1:1", ["remote-model"]) },
    });
    expect(ids(listModels(ctx).data)).toEqual(["peer1/remote-model", "visible"]);
  });

  test("peer namespaces: a local model and two peers serving the same name", () => {
    const ctx = context([modelConfig("shared")], {
      peers: { cuda: peerConfig("cuda", "http://127.0.0.1:1", ["shared"]), strix: peerConfig("strix", "http://127.0.0.1:2", ["shared"]) },
    });
    expect(ids(listModels(ctx).data)).toEqual(["cuda/shared", "shared", "strix/shared"]);
    expect(modelStatus(ctx).map((m) => m.id)).toEqual(["shared", "cuda/shared", "strix/shared"]);
  });

  test("includeAliasesInList adds one record per alias; an unlisted model's aliases stay out", () => {
    const ctx = context([modelConfig("real", { aliases: ["nick"] }), modelConfig("quiet", { aliases: ["hush"], unlisted: true })], { includeAliasesInList: true });
    expect(ids(listModels(ctx).data)).toEqual(["nick", "real"]);
    expect(ids(listModels(context([modelConfig("real", { aliases: ["nick"] })])).data)).toEqual(["real"]);
  });

  test("status: a model counts as loaded unless stopped or shut down; aliases share it; peers are unloaded", () => {
    const ctx = context(
      [modelConfig("loaded-model", { aliases: ["loaded-alias"] }), modelConfig("unloaded-model"), modelConfig("starting-model"), modelConfig("gone-model")],
      { includeAliasesInList: true, peers: { peer1: peerConfig("peer1", "http://127.0.0.1:1", ["remote-model"]) } },
      { "loaded-model": "ready", "unloaded-model": "stopped", "starting-model": "starting", "gone-model": "shutdown" },
    );
    const status = Object.fromEntries(listModels(ctx).data.map((d) => [d.id, d.status.value]));
    expect(status).toEqual({
      "loaded-model": "loaded",
      "loaded-alias": "loaded",
      "unloaded-model": "unloaded",
      "starting-model": "loaded",
      "gone-model": "unloaded",
      "peer1/remote-model": "unloaded",
    });
  });

  test("sorted in Go's byte order (upper case before lower, code points beyond the BMP last)", () => {
    const ctx = context([modelConfig("b"), modelConfig("B"), modelConfig("a-2"), modelConfig("a_1"), modelConfig("\u{1F600}"), modelConfig("\uFF21")]);
    expect(ids(listModels(ctx).data)).toEqual(["B", "a-2", "a_1", "b", "\uFF21", "\u{1F600}"]);
  });

  test("records: llama-swap's fields in its order, created in seconds, names trimmed, meta keys sorted", () => {
    const ctx = context(
      [modelConfig("m", { name: " M ", description: " d ", aliases: ["z-alias", "a-alias"], metadata: { zeta: 1, alpha: { y: 2, b: 1 }, type: "mine" }, capabilities: caps({ in: ["text"], tools: true, context: 4096 }) })],
      { includeAliasesInList: true, peers: { p: peerConfig("p", "http://127.0.0.1:1", ["r"]) } },
    );
    const text = JSON.stringify(listModels(ctx));
    const m = JSON.stringify(JSON.parse(text).data.find((d: ModelRecord) => d.id === "m"));
    expect(m).toBe(
      JSON.stringify({
        id: "m",
        object: "model",
        created: 1_750_000_000,
        owned_by: "llama-swap",
        name: "M",
        description: "d",
        architecture: { input_modalities: ["text"] },
        capabilities: { function_calling: true },
        supported_parameters: ["tools", "tool_choice"],
        context_length: 4096,
        meta: { llamaswap: { aliases: ["z-alias", "a-alias"], alpha: { b: 1, y: 2 }, type: "model", zeta: 1 }, n_ctx: 4096 },
        status: { value: "unloaded" },
      }),
    );
    const alias = listModels(ctx).data.find((d) => d.id === "a-alias")!;
    expect(alias.meta).toEqual({ llamaswap: { alpha: { b: 1, y: 2 }, modelID: "m", type: "alias", zeta: 1 }, n_ctx: 4096 });
    expect(alias.architecture).toEqual({ input_modalities: ["text"] });
    const peer = listModels(ctx).data.find((d) => d.id === "p/r")!;
    expect(JSON.stringify(peer)).toBe(
      JSON.stringify({ id: "p/r", object: "model", created: 1_750_000_000, owned_by: "llama-swap", name: "p: r", meta: { llamaswap: { peerID: "p", type: "peer" } }, status: { value: "unloaded" } }),
    );
  });
});

/** One row of llama-swap's TestServer_HandleListModels_Capabilities. */
interface CapsRow {
  name: string;
  caps: Partial<ModelCapabilities>;
  want: Partial<Pick<ModelRecord, "architecture" | "capabilities" | "supported_parameters" | "context_length">>;
}

const capsRows: CapsRow[] = [
  {
    name: "all_fields",
    caps: { in: ["text", "image"], out: ["text", "audio"], tools: true, context: 100000 },
    want: {
      architecture: { input_modalities: ["text", "image"], modality: "text+image->text+audio", output_modalities: ["text", "audio"] },
      capabilities: { audio_speech: true, function_calling: true, vision: true },
      supported_parameters: ["tools", "tool_choice"],
      context_length: 100000,
    },
  },
  { name: "in_only", caps: { in: ["text", "image"] }, want: { architecture: { input_modalities: ["text", "image"] }, capabilities: { vision: true } } },
  // Go builds an empty capabilities map here, and omitempty leaves an empty map out.
  { name: "out_only", caps: { out: ["audio"] }, want: { architecture: { output_modalities: ["audio"] } } },
  { name: "tools", caps: { tools: true }, want: { capabilities: { function_calling: true }, supported_parameters: ["tools", "tool_choice"] } },
  { name: "reranker", caps: { reranker: true }, want: { capabilities: { reranker: true } } },
  { name: "context", caps: { context: 32768 }, want: { context_length: 32768 } },
  { name: "audio_transcriptions", caps: { in: ["audio"], out: ["text"] }, want: { architecture: { input_modalities: ["audio"], modality: "audio->text", output_modalities: ["text"] }, capabilities: { audio_transcriptions: true } } },
  { name: "image_generation", caps: { in: ["text"], out: ["image"] }, want: { architecture: { input_modalities: ["text"], modality: "text->image", output_modalities: ["image"] }, capabilities: { image_generation: true } } },
  { name: "image_to_image", caps: { in: ["image"], out: ["image"] }, want: { architecture: { input_modalities: ["image"], modality: "image->image", output_modalities: ["image"] }, capabilities: { image_to_image: true, vision: true } } },
  { name: "empty_skip", caps: {}, want: {} },
];

describe("capabilities (llama-swap's TestServer_HandleListModels_Capabilities)", () => {
  const only = (c: Partial<ModelCapabilities>, metadata: Record<string, unknown> = {}): ModelRecord => {
    const data = listModels(context([modelConfig("m", { capabilities: caps(c), metadata })])).data;
    expect(data.length).toBe(1);
    return data[0];
  };

  for (const row of capsRows) {
    test(row.name, () => {
      const rec = only(row.caps);
      const got = { architecture: rec.architecture, capabilities: rec.capabilities, supported_parameters: rec.supported_parameters, context_length: rec.context_length };
      expect(JSON.parse(JSON.stringify(got))).toEqual(row.want);
      expect(rec.meta?.n_ctx).toBe(row.want.context_length);
    });
  }

  test("metadata_precedence: with capabilities, the renderer's keys leave meta.llamaswap", () => {
    const rec = only({ in: ["text"] }, { architecture: "should-be-dropped", custom_field: "should-remain", capabilities: "also-dropped", other_metadata: "also-remain", context_length: 1, supported_parameters: [] });
    expect(rec.architecture).toEqual({ input_modalities: ["text"] });
    expect(rec.meta).toEqual({ llamaswap: { custom_field: "should-remain", other_metadata: "also-remain", type: "model" } });
  });

  test("metadata_passthrough_no_caps: without capabilities, those keys stay in meta.llamaswap", () => {
    const rec = only({}, { architecture: "preserved", context_length: 4096, capabilities: "preserved", custom_field: "preserved" });
    expect(rec.architecture).toBeUndefined();
    expect(rec.context_length).toBeUndefined();
    expect(rec.meta).toEqual({ llamaswap: { architecture: "preserved", capabilities: "preserved", context_length: 4096, custom_field: "preserved", type: "model" } });
  });

  test("/api/events modelStatus carries the capability flags and context_length (TestServer_ModelStatus_Capabilities)", () => {
    const ctx = context([modelConfig("m", { capabilities: caps({ in: ["text", "image"], tools: true, context: 128000 }) }), modelConfig("plain")]);
    const [m, plain] = modelStatus(ctx);
    expect(m.id).toBe("m");
    expect(m.capabilities).toEqual({ function_calling: true, vision: true });
    expect(m.context_length).toBe(128000);
    expect(plain.capabilities).toBeUndefined();
    expect(plain.context_length).toBeUndefined();
  });
});
