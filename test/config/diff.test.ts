import { describe, expect, test } from "bun:test";
import { describeDiff, diffConfigs } from "../../src/config/diff.ts";
import { loadConfig } from "../../src/config/load.ts";

const load = (text: string, previous?: ReadonlyMap<string, number>) => loadConfig(text, { previousPorts: previous }).config;
const portsOf = (c: ReturnType<typeof load>) => new Map(Object.values(c.models).map((m) => [m.id, m.port] as [string, number]));

describe("config diff", () => {
  const before = load(`
startPort: 9000
models:
  a:
    cmd: serve --port \${PORT} --model a
    ttl: 60
  b:
    cmd: serve --port \${PORT} --model b
  d:
    cmd: serve --port \${PORT} --model d
`);

  test("added, removed, restarted (process settings) and metadata-only models, and changed top-level keys", () => {
    const after = load(
      `
startPort: 9000
apiKeys: [k1]
models:
  a:
    cmd: serve --port \${PORT} --model a
    ttl: 300
    aliases: [first]
    concurrencyLimit: 4
  b:
    cmd: serve --port \${PORT} --model b --threads 8
  c:
    cmd: serve --port \${PORT} --model c
`,
      portsOf(before),
    );
    const d = diffConfigs(before, after);
    expect(d.added).toEqual(["c"]);
    expect(d.removed).toEqual(["d"]);
    expect(d.restarted).toEqual([{ id: "b", keys: ["cmd"] }]);
    // concurrencyLimit is the router's alone: applied in place, no restart of the process.
    expect(d.metadata).toEqual([{ id: "a", keys: ["aliases", "concurrencyLimit", "ttl"] }]);
    expect(d.global).toContain("apiKeys");
    expect(d.global).toContain("aliases");
    expect(describeDiff(d)).toBe("added c; removed d; restarting b (cmd); updated in place a (aliases, concurrencyLimit, ttl); settings aliases, apiKeys, routing");
  });

  test("an unchanged config diffs to nothing", () => {
    const same = load(`
startPort: 9000
models:
  a:
    cmd: serve --port \${PORT} --model a
    ttl: 60
  b:
    cmd: serve --port \${PORT} --model b
  d:
    cmd: serve --port \${PORT} --model d
`, portsOf(before));
    expect(diffConfigs(before, same)).toEqual({ added: [], removed: [], restarted: [], metadata: [], global: [] });
  });

  test("on a reload, models keep their ${PORT}: a model added before them in ID order does not move them", () => {
    expect(portsOf(before)).toEqual(new Map([["a", 9000], ["b", 9001], ["d", 9002]]));
    const text = `
startPort: 9000
models:
  a:
    cmd: serve --port \${PORT} --model a
  aa:
    cmd: serve --port \${PORT} --model aa
  b:
    cmd: serve --port \${PORT} --model b
  d:
    cmd: serve --port \${PORT} --model d
`;
    // A fresh start numbers them in ID order; a reload keeps the old ports and gives aa a free one.
    expect(portsOf(load(text))).toEqual(new Map([["a", 9000], ["aa", 9001], ["b", 9002], ["d", 9003]]));
    const reloaded = load(text, portsOf(before));
    expect(portsOf(reloaded)).toEqual(new Map([["a", 9000], ["aa", 9003], ["b", 9001], ["d", 9002]]));
    expect(diffConfigs(before, reloaded).restarted).toEqual([]);
  });

  test("the ports are kept when ${PORT} comes in through a macro (llama-swap's usual `llama` macro)", () => {
    const text = (extra: string) => `
startPort: 9000
macros:
  llama: serve --port \${PORT}
models:
${extra}  b:
    cmd: \${llama} --model b
  c:
    cmd: \${llama} --model c
`;
    const first = load(text(""));
    expect(portsOf(first)).toEqual(new Map([["b", 9000], ["c", 9001]]));
    const reloaded = load(text("  a:\n    cmd: ${llama} --model a\n"), portsOf(first));
    expect(portsOf(reloaded)).toEqual(new Map([["a", 9002], ["b", 9000], ["c", 9001]]));
    expect(diffConfigs(first, reloaded)).toMatchObject({ added: ["a"], restarted: [] });
  });
});
