/**
 * Profiles and selectors through the app on a socket, with llama-swap's server tests ported
 * (internal/server/profiles_test.go, selector_test.go): the same configs, the same requests, the
 * same answers. The router is the scripted fake (grants point at an echo upstream), so the test
 * sees which model each request was granted and the exact body the backend received.
 */
import { afterAll, beforeEach, describe, expect, test } from "bun:test";
import { loadConfig } from "../../src/config/load.ts";
import type { Config } from "../../src/config/types.ts";
import type { LiveConfig } from "../../src/http/context.ts";
import { createActivityLog } from "../../src/observe/activity.ts";
import { createBroadcast } from "../../src/observe/broadcast.ts";
import type { ObserveEvent } from "../../src/observe/events.ts";
import type { Supervisor } from "../../src/process/types.ts";
import { RouteError } from "../../src/router/types.ts";
import { dedent } from "../config/helpers.ts";
import { waitFor } from "../fixtures/wait.ts";
import { createFakeRouter, createGate, fakeSupervisor, startApp, startEchoUpstream, type FakeModel } from "./helpers.ts";

const upstream = startEchoUpstream();
afterAll(() => upstream.stop());

const PROFILE_CONFIG = `
  models:
    real:
      cmd: echo \${PORT}
      name: Real Model
      filters:
        setParamsByID:
          variant:
            thinking: true
    hidden:
      cmd: echo hidden
      proxy: http://localhost:1234
      name: Hidden Model
      unlisted: true
  peers:
    remote:
      proxy: http://example.com
      models: [remote-model]
  profiles:
    coding:
      description: Coding profile
      pins:
        public: variant
        disabled: ~
        real: hidden
        expose: hidden
        remote-model: hidden
`;

const SELECTOR_CONFIG = `
  models:
    a:
      cmd: echo \${PORT}
      aliases: [alias-a]
      filters:
        setParamsByID:
          variant:
            thinking: true
    b:
      cmd: echo \${PORT}
    c:
      cmd: echo \${PORT}
  groups:
    balanced:
      swap: false
      members: [a, b, c]
  peers:
    remote:
      proxy: http://example.com
      models: [remote-model]
  selectors:
    public:
      strategy: pin
      targets: [variant, remote/remote-model]
      name: Public Model
      description: Public selector
      metadata:
        purpose: testing
    warm:
      strategy: warm
      targets: [a, b, c]
    balanced:
      strategy: spillover
      targets: [a, b, c]
      settings:
        spillover: 1
    hidden-selector:
      strategy: pin
      targets: [a]
      unlisted: true
  profiles:
    coding:
      pins:
        llm-code: public
`;

type Mutable = Supervisor & { state: Supervisor["state"] };

/** The app over a config, with mutable process states and gates per model. */
function setup(yaml: string, gates: Record<string, () => Promise<void>> = {}) {
  const config = loadConfig(dedent(yaml), { env: {} }).config;
  const models: Record<string, FakeModel> = {};
  const sups = new Map<string, Mutable>();
  for (const id of Object.keys(config.models)) {
    models[id] = { baseUrl: upstream.url, gate: gates[id], signals: [] };
    sups.set(id, fakeSupervisor(id, "stopped") as Mutable);
  }
  const router = createFakeRouter(models);
  const events = createBroadcast<ObserveEvent>();
  const seen: ObserveEvent[] = [];
  events.subscribe((d) => void (d.kind === "event" && seen.push(d.event)));
  const activity = createActivityLog({});
  const live: LiveConfig = { config, warnings: [] };
  const app = startApp({ config, live, router, models: sups as ReadonlyMap<string, Supervisor>, events, activity });
  const chat = (model: string, extra: Record<string, unknown> = {}) =>
    fetch(`${app.url}/v1/chat/completions`, { method: "POST", headers: { "content-type": "application/json" }, body: JSON.stringify({ model, ...extra }) });
  const setState = (id: string, state: Supervisor["state"]): void => void (sups.get(id)!.state = state);
  const activate = (name: string | null) => fetch(`${app.url}/api/profiles/active`, { method: "PUT", body: JSON.stringify({ name }) });
  const list = async () => ((await (await fetch(`${app.url}/v1/models`)).json()) as { data: { id: string; name?: string; description?: string; status: { value: string }; meta?: { llamaswap?: Record<string, unknown> } }[] }).data;
  return { app, router, models, events, seen, activity, live, chat, setState, activate, list, config };
}

type Setup = ReturnType<typeof setup>;
const apps: Setup[] = [];
const make = (yaml: string, gates?: Record<string, () => Promise<void>>): Setup => {
  const s = setup(yaml, gates);
  apps.push(s);
  return s;
};
afterAll(() => apps.forEach((s) => s.app.stop()));

/** What the echo upstream received. */
async function echoed(res: Response): Promise<{ path: string; body: Record<string, unknown> | string }> {
  const j = (await res.json()) as { path: string; body: string };
  let body: Record<string, unknown> | string = j.body;
  try {
    body = JSON.parse(j.body) as Record<string, unknown>;
  } catch {
    // not JSON: as sent
  }
  return { path: j.path, body };
}

describe("profiles (llama-swap's profiles_test.go)", () => {
  let s: Setup;
  beforeEach(() => {
    s = make(PROFILE_CONFIG);
  });

  test("TestServer_ProfileAPI: list, activate, an unknown one is 404 and changes nothing, null deactivates", async () => {
    const listed = (await (await fetch(`${s.app.url}/api/profiles`)).json()) as { active: string | null; profiles: { id: string; description: string; pins: Record<string, string> }[] };
    expect(listed.active).toBeNull();
    expect(listed.profiles).toHaveLength(1);
    expect(listed.profiles[0]).toMatchObject({ id: "coding", description: "Coding profile" });
    expect(listed.profiles[0].pins.disabled).toBe("");

    let res = await s.activate("coding");
    expect(res.status).toBe(200);
    expect(await res.json()).toEqual({ active: "coding" });
    res = await s.activate("missing");
    expect(res.status).toBe(404);
    expect(((await res.json()) as { error: { message: string } }).error.message).toBe('profile "missing" not found');
    expect(((await (await fetch(`${s.app.url}/api/profiles`)).json()) as { active: string }).active).toBe("coding");
    res = await s.activate(null);
    expect(await res.json()).toEqual({ active: null });
  });

  test("bad PUT bodies are 400s with llama-swap's messages", async () => {
    const put = async (body: string) => {
      const res = await fetch(`${s.app.url}/api/profiles/active`, { method: "PUT", body });
      return [res.status, ((await res.json()) as { error: { message: string } }).error.message];
    };
    expect(await put("{")).toEqual([400, "invalid profile request"]);
    expect(await put("{}")).toEqual([400, "profile name is required"]);
    expect(await put('{"name":3}')).toEqual([400, "profile name must be a string or null"]);
  });

  test("TestServer_ProfileMiddleware_JSONAndFilters: a pin rewrites the body's model before aliases and filters; a disabled pin is 404", async () => {
    await s.activate("coding");
    const res = await s.chat("public");
    expect(res.status).toBe(200);
    expect(s.router.grants.at(-1)!.model).toBe("real");
    const { body } = await echoed(res);
    expect(body).toMatchObject({ model: "variant", thinking: true });

    const off = await s.chat("disabled");
    expect(off.status).toBe(404);
    expect(((await off.json()) as { error: { message: string } }).error.message).toBe('model "disabled" is disabled by the active profile "coding"');
  });

  test("without an active profile nothing is rewritten (a pinned name that is nothing else is 404)", async () => {
    await s.chat("real").then((r) => r.text());
    expect(s.router.grants.at(-1)!.model).toBe("real");
    expect((await s.chat("public")).status).toBe(404);
  });

  test("TestServer_Profile_UpstreamPreservesBody: on /upstream the path's model is pinned, the body passes untouched", async () => {
    await s.activate("coding");
    const res = await fetch(`${s.app.url}/upstream/public/custom`, { method: "POST", headers: { "content-type": "application/json" }, body: '{"model":"public"}' });
    expect(res.status).toBe(200);
    expect(s.router.grants.at(-1)!.model).toBe("real");
    const got = await echoed(res);
    expect(got.path).toBe("/custom");
    expect(got.body).toEqual({ model: "public" });
    // A disabled name on /upstream is 404 too.
    expect((await fetch(`${s.app.url}/upstream/disabled/x`)).status).toBe(404);
  });

  test("TestServer_Profile_ModelListings: enabled pins that name nothing else are listed as type profile", async () => {
    await s.activate("coding");
    const records = new Map((await s.list()).map((r) => [r.id, r]));
    expect(records.has("public")).toBe(true);
    expect(records.get("public")!.name).toBeUndefined();
    expect(records.get("real")!.name).toBe("Real Model");
    expect(records.get("remote/remote-model")!.name).toBe("remote: remote-model");
    expect(records.has("expose")).toBe(true);
    expect(records.has("disabled")).toBe(false);
    expect(records.has("hidden")).toBe(false);
    expect(records.get("public")!.meta!.llamaswap!.type).toBe("profile");
    // /api/models-style management uses the concrete models: a pin is not a model.
    await fetch(`${s.app.url}/api/models/unload/real`, { method: "POST" });
    expect(s.router.unloads.at(-1)).toEqual(["real"]);
  });

  test("profileChanged: a change is published, and a config reload deactivates the profile", async () => {
    await s.activate("coding");
    await s.activate("coding"); // unchanged: no second event
    await waitFor(() => s.seen.some((e) => e.type === "profile" && e.active === "coding"), 5000, "the profile event");
    expect(s.seen.filter((e) => e.type === "profile")).toHaveLength(1);
    s.live.config = { ...s.config } as Config;
    for (const f of s.live.replaced ?? []) f();
    await waitFor(() => s.seen.filter((e) => e.type === "profile").length === 2, 5000, "the second profile event");
    expect(s.seen.filter((e) => e.type === "profile").at(-1)).toMatchObject({ active: null });
    expect(((await (await fetch(`${s.app.url}/api/profiles`)).json()) as { active: null }).active).toBeNull();
  });

  test("/api/events says the active profile when a reader connects", async () => {
    await s.activate("coding");
    const abort = new AbortController();
    const res = await fetch(`${s.app.url}/api/events`, { signal: abort.signal });
    const reader = res.body!.getReader();
    let text = "";
    while (!text.includes('"type":"profileChanged"')) text += new TextDecoder().decode((await reader.read()).value);
    expect(text).toContain(JSON.stringify(JSON.stringify({ active: "coding" })));
    abort.abort();
  });
});

describe("selectors (llama-swap's selector_test.go)", () => {
  test("TestServer_SelectorMiddleware_RewritesBeforeFiltersAndRecordsActivity: pin → a, body model variant with its params, activity names the selector", async () => {
    const s = make(SELECTOR_CONFIG);
    const res = await s.chat("public");
    expect(res.status).toBe(200);
    expect(s.router.grants.at(-1)!.model).toBe("a");
    expect((await echoed(res)).body).toMatchObject({ model: "variant", thinking: true });
    await waitFor(() => s.activity.recent().length === 1, 5000, "the record");
    expect(s.activity.recent()[0]).toMatchObject({ model: "a", metadata: { selector: "public" } });
  });

  test("TestServer_SelectorMiddleware_ProfileRunsFirst: a pin to a selector, then the selector", async () => {
    const s = make(SELECTOR_CONFIG);
    await s.activate("coding");
    await (await s.chat("llm-code")).text();
    expect(s.router.grants.at(-1)!.model).toBe("a");
    await waitFor(() => s.activity.recent().length === 1, 5000, "the record");
    expect(s.activity.recent()[0].metadata).toEqual({ selector: "public" });
  });

  test("warm: the first ready target, then starting, then the first", async () => {
    const s = make(SELECTOR_CONFIG);
    const served = async () => {
      await (await s.chat("warm")).text();
      return s.router.grants.at(-1)!.model;
    };
    expect(await served()).toBe("a");
    s.setState("a", "starting");
    s.setState("c", "ready");
    expect(await served()).toBe("c");
    s.setState("c", "stopped");
    expect(await served()).toBe("a");
  });

  test("TestServer_SelectorMiddleware_SpilloverReservations: two requests at once go to different targets", async () => {
    const gate = createGate();
    const s = make(SELECTOR_CONFIG, { a: gate.wait, b: gate.wait, c: gate.wait });
    for (const id of ["a", "b", "c"]) s.setState(id, "ready");
    const first = s.chat("balanced");
    const second = s.chat("balanced");
    await waitFor(() => s.router.grants.length === 0 && s.models.a.signals!.length + s.models.b.signals!.length + s.models.c.signals!.length === 2, 5000, "both waiting");
    gate.open();
    const [r1, r2] = await Promise.all([first, second]);
    await Promise.all([r1.text(), r2.text()]);
    const models = s.router.grants.map((g) => g.model);
    expect(models).toHaveLength(2);
    expect(new Set(models).size).toBe(2);
  });

  test("a reservation lasts until the response ends: while one is open the next spills to a cold target, after it ends it does not", async () => {
    const gate = createGate();
    const s = make(SELECTOR_CONFIG, { a: gate.wait });
    s.setState("a", "ready");
    const open = s.chat("balanced");
    await waitFor(() => s.models.a.signals!.length === 1, 5000, "the first one waiting on a");
    await (await s.chat("balanced")).text();
    expect(s.router.grants.at(-1)!.model).toBe("b");
    gate.open();
    await (await open).text();
    await (await s.chat("balanced")).text();
    expect(s.router.grants.at(-1)!.model).toBe("a");
  });

  test("TestServer_SelectorMiddleware_AllSpilloverTargetsStopping: 503 naming the selector", async () => {
    const s = make(SELECTOR_CONFIG);
    s.setState("a", "stopping");
    s.setState("b", "stopping");
    s.setState("c", "shutdown");
    const res = await s.chat("balanced");
    expect(res.status).toBe(503);
    expect(await res.text()).toContain('selector \\"balanced\\" has no available spillover targets');
  });

  test("a refused request gives its reservation back", async () => {
    const s = make(SELECTOR_CONFIG);
    s.setState("a", "ready");
    s.models.a.refuse = new RouteError("concurrency_limit", "too many requests for model a");
    expect((await s.chat("balanced")).status).toBe(429);
    s.models.a.refuse = undefined;
    await (await s.chat("balanced")).text();
    expect(s.router.grants.at(-1)!.model).toBe("a");
  });

  test("TestServer_SelectorMiddleware_UpstreamUnsupported: /upstream/<selector>/ is 404 and reaches nothing", async () => {
    const s = make(SELECTOR_CONFIG);
    const res = await fetch(`${s.app.url}/upstream/public/v1/chat/completions`, { method: "POST", headers: { "content-type": "application/json" }, body: '{"model":"public"}' });
    expect(res.status).toBe(404);
    expect(s.router.grants).toHaveLength(0);
  });

  test("TestServer_Selector_ModelListings: selectors with their name, description, metadata, strategy and targets; unlisted ones left out", async () => {
    const s = make(SELECTOR_CONFIG);
    s.setState("a", "starting");
    const byId = new Map((await s.list()).map((r) => [r.id, r]));
    const pub = byId.get("public")!;
    expect(pub).toMatchObject({ name: "Public Model", description: "Public selector", status: { value: "loaded" } });
    expect(pub.meta!.llamaswap).toEqual({ purpose: "testing", type: "selector", strategy: "pin", targets: ["variant", "remote/remote-model"] });
    expect(byId.get("balanced")!.meta!.llamaswap).toEqual({ type: "selector", strategy: "spillover", targets: ["a", "b", "c"], spillover: 1 });
    expect(byId.has("hidden-selector")).toBe(false);
  });

  test("TestServer_Selector_ModelListingPinUsesFirstTarget: a pin selector is loaded only when its first target is", async () => {
    const s = make(SELECTOR_CONFIG.replace("targets: [variant, remote/remote-model]", "targets: [a, b]"));
    s.setState("b", "ready");
    expect((await s.list()).find((r) => r.id === "public")!.status.value).toBe("unloaded");
  });
});
