import { afterAll, describe, expect, test } from "bun:test";
import { Database } from "bun:sqlite";
import fc from "fast-check";
import { chmodSync, existsSync, mkdirSync, mkdtempSync, readdirSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import type { ActivityOutcome, ActivityRecord } from "../../src/observe/activity.ts";
import { activityStats, parseActivityQuery, queryActivity, type ActivityQuery } from "../../src/observe/activity-query.ts";
import type { ActivityStore } from "../../src/observe/activity-store.ts";
import { APPLICATION_ID, ActivityStoreOpenError, MIGRATIONS, migrate, openSqliteActivityStore, utf16Key, type Migration, type SqliteActivityStoreOptions } from "../../src/store/sqlite-activity-store.ts";
import { waitFor } from "../fixtures/wait.ts";

const root = mkdtempSync(join(tmpdir(), "switchyard-store-"));
afterAll(() => rmSync(root, { recursive: true, force: true }));
let n = 0;
/** A fresh directory for one test. */
function dir(): string {
  const d = join(root, `t${++n}`);
  mkdirSync(d);
  return d;
}

const opened: ActivityStore[] = [];
afterAll(() => {
  for (const s of opened) s.close();
});
function open(opts: SqliteActivityStoreOptions): ActivityStore {
  // The records are from January 2026: a clock near them, so the age rule keeps them.
  const s = openSqliteActivityStore({ onError: (err) => void errors.push(err), now: () => T0 + 3_600_000, ...opts });
  opened.push(s);
  return s;
}
const errors: unknown[] = [];

/** A small deterministic PRNG (mulberry32). */
function prng(seed: number): () => number {
  return () => {
    seed = (seed + 0x6d2b79f5) | 0;
    let t = Math.imul(seed ^ (seed >>> 15), 1 | seed);
    t = (t + Math.imul(t ^ (t >>> 7), 61 | t)) ^ t;
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

// Model names chosen so that JavaScript's string order and UTF-8 byte order disagree (U+FF41 vs
// an astral character), plus ties, a prefix and the empty name.
const MODELS = ["a", "b", "ab", "qwen/qwen3", "\uff41", "\u{1f600}", "", "Z"];
const PATHS = ["/v1/chat/completions", "/v1/completions", "/v1/embeddings", "/upstream/a/x"];
const TYPES = ["application/json", "text/event-stream", "", "text/plain; charset=utf-8"];
const OUTCOMES: ActivityOutcome[] = ["ok", "refused", "cancelled", "severed", "upstream_error"];
const T0 = Date.UTC(2026, 0, 10, 12, 0, 0);

function records(count: number, seed = 1): ActivityRecord[] {
  const rnd = prng(seed);
  const pick = <T>(xs: readonly T[]): T => xs[Math.floor(rnd() * xs.length)]!;
  const out: ActivityRecord[] = [];
  for (let id = 1; id <= count; id++) {
    const speed = (): number => (rnd() < 0.3 ? 0 : rnd() < 0.2 ? 42 : Math.round(rnd() * 100000) / 100);
    const granted = rnd() < 0.8;
    const streamed = rnd() < 0.5;
    const input = Math.floor(rnd() * 50);
    const output = Math.floor(rnd() * 500);
    const pps = speed();
    const tps = speed();
    const ts = id === 7 ? "not a time" : new Date(T0 + Math.floor(rnd() * 20) * 60_000 + (rnd() < 0.5 ? 123 : 0)).toISOString();
    out.push({
      id,
      timestamp: ts,
      model: pick(MODELS),
      peer: rnd() < 0.2 ? "remote" : "",
      req_path: pick(PATHS),
      client: rnd() < 0.5 ? "127.0.0.1" : "",
      resp_status_code: pick([200, 200, 200, 400, 404, 500, 503]),
      resp_content_type: pick(TYPES),
      tokens: {
        cache_tokens: rnd() < 0.4 ? -1 : Math.floor(rnd() * 30),
        draft_tokens: Math.floor(rnd() * 3),
        draft_acc_tokens: Math.floor(rnd() * 2),
        input_tokens: input,
        output_tokens: output,
        prompt_per_second: pps,
        tokens_per_second: tps,
      },
      duration_ms: Math.floor(rnd() * 40),
      has_capture: false,
      ...(rnd() < 0.2 ? { error_msg: pick(["upstream closed", "model \u00e9chec", "x".repeat(300)]) } : {}),
      queue_wait_ms: granted ? Math.floor(rnd() * 5) : null,
      load_wait_ms: granted ? Math.floor(rnd() * 2000) : null,
      ttfb_ms: granted ? Math.floor(rnd() * 30) : null,
      ttft_ms: granted && streamed ? Math.floor(rnd() * 30) : null,
      streamed,
      outcome: pick(OUTCOMES),
      bytes_in: Math.floor(rnd() * 4000),
      bytes_out: Math.floor(rnd() * 40000),
      usage: {
        promptTokens: input,
        completionTokens: output,
        cachedTokens: rnd() < 0.5 ? null : 3,
        draftTokens: null,
        draftAccepted: null,
        promptPerSecond: pps || null,
        generationPerSecond: tps || null,
        promptMs: rnd() < 0.5 ? null : rnd() * 100,
        generationMs: null,
      },
    });
  }
  return out;
}

/** The answer or the error message, so results and 400-style errors compare alike. */
function outcome<T>(f: () => T): { ok: T } | { error: string; name: string } {
  try {
    return { ok: f() };
  } catch (err) {
    return { error: (err as Error).message, name: (err as Error).name };
  }
}

const SORTS = ["id", "time", "model", "req_path", "resp_status_code", "resp_content_type", "cached", "prompt", "generated", "drafted", "prompt_speed", "gen_speed", "duration"];
const FILTERS = [
  "",
  "model=a",
  "model=a&model=%EF%BD%81&model=%F0%9F%98%80",
  "model=nobody",
  "model=ab&model=ab",
  `start=${new Date(T0 + 5 * 60_000).toISOString()}`,
  `end=${new Date(T0 + 5 * 60_000).toISOString()}`,
  `start=${new Date(T0 + 3 * 60_000).toISOString()}&end=${new Date(T0 + 9 * 60_000 + 123).toISOString()}`,
  `start=2030-01-01T00:00:00Z`,
  "min_id=50",
  "max_id=20",
  "min_id=30&max_id=90&model=b&model=Z",
  "min_id=500",
];
const PAGES = ["", "limit=7", "limit=7&page=3", "limit=999", "limit=10&page=20", "limit=1&page=150", "limit=25&page=2"];

describe("sqlite activity store: the memory store's answers", () => {
  const recs = records(150);
  const store = open({ path: join(dir(), "activity.db") });
  for (const r of recs) store.add(r);
  store.flush();

  test("reading back gives the records added, deep-equal", () => {
    const all = store.query(parseActivityQuery(new URLSearchParams("limit=999&order=asc")));
    expect(all.data).toEqual(recs);
    expect(store.lastId()).toBe(150);
  });

  test("every sort key × order × filter × page, including the errors", () => {
    let compared = 0;
    let failures = 0;
    for (const sort of SORTS) {
      for (const order of ["asc", "desc"]) {
        for (const filter of FILTERS) {
          for (const page of PAGES) {
            const qs = [`sort=${sort}`, `order=${order}`, filter, page].filter((s) => s !== "").join("&");
            const q: ActivityQuery = parseActivityQuery(new URLSearchParams(qs));
            const want = outcome(() => queryActivity(recs, q));
            const got = outcome(() => store.query(q));
            if ("error" in want) failures++;
            expect({ qs, ...got }).toEqual({ qs, ...want });
            compared++;
          }
        }
      }
    }
    expect(compared).toBe(SORTS.length * 2 * FILTERS.length * PAGES.length);
    // The table reaches the 400-style errors too (a page past the last when there are records).
    expect(failures).toBeGreaterThan(100);
  });

  test("stats: totals and histograms, for all and per model", () => {
    for (const model of [undefined, "", ...MODELS, "nobody"]) {
      expect({ model, s: store.stats(model) }).toEqual({ model, s: activityStats(recs, model) });
    }
    // The histograms are not empty here (the comparison means something).
    expect(store.stats().gen_histogram?.bins.reduce((a, b) => a + b, 0)).toBeGreaterThan(50);
  });

  test("histograms on values at and around the bin edges (property: same as memory, per model and for all)", () => {
    const s = open({ path: join(dir(), "activity.db") });
    const all: ActivityRecord[] = [];
    let id = 0;
    const ulps = (x: number, k: number): number => {
      const f = new Float64Array([x]);
      const b = new BigInt64Array(f.buffer);
      b[0] += BigInt(k);
      return f[0]!;
    };
    // Speeds: arbitrary doubles, exact multiples of the bin size, and values a few ulps off them.
    const speeds = fc.oneof(
      fc.array(fc.oneof(fc.constant(0), fc.double({ min: 1e-300, max: 1e12, noNaN: true })), { minLength: 1, maxLength: 60 }),
      fc.tuple(fc.double({ min: 1e-3, max: 1e6, noNaN: true }), fc.double({ min: 1e-6, max: 1e4, noNaN: true }), fc.array(fc.tuple(fc.integer({ min: 0, max: 20 }), fc.integer({ min: -3, max: 3 })), { minLength: 1, maxLength: 60 })).map(([lo, step, ks]) => [
        lo,
        lo + 20 * step,
        ...ks.map(([k, off]) => Math.max(lo, ulps(lo + k * step, off))),
      ]),
    );
    let run = 0;
    fc.assert(
      fc.property(speeds, speeds, (gen, prompt) => {
        const model = `run${++run}`;
        const rs = gen.map((v, i) => ({ ...records(1)[0]!, id: ++id, model, tokens: { ...records(1)[0]!.tokens, tokens_per_second: v, prompt_per_second: prompt[i % prompt.length]! } }));
        for (const r of rs) s.add(r);
        all.push(...rs);
        expect(s.stats(model)).toEqual(activityStats(rs));
      }),
      { numRuns: 150, seed: 42 },
    );
    expect(s.stats()).toEqual(activityStats(all));
  });

  test("one value, or all values equal: binSize 1, as in memory", () => {
    const s = open({ path: join(dir(), "activity.db") });
    const rs = records(5, 7).map((r) => ({ ...r, tokens: { ...r.tokens, tokens_per_second: 12.5, prompt_per_second: r.id === 3 ? 9 : 0 } }));
    for (const r of rs) s.add(r);
    expect(s.stats()).toEqual(activityStats(rs));
    expect(s.stats().gen_histogram).toMatchObject({ min: 12.5, max: 12.5, binSize: 1, bins: [5, ...new Array(19).fill(0)] });
  });

  test("an empty store answers like an empty memory store", () => {
    const s = open({ path: join(dir(), "activity.db") });
    for (const qs of ["", "page=2", "model=a&sort=model&order=asc"]) {
      const q = parseActivityQuery(new URLSearchParams(qs));
      expect(s.query(q)).toEqual(queryActivity([], q));
    }
    expect(s.stats()).toEqual(activityStats([]));
    expect(s.lastId()).toBe(0);
  });
});

describe("sqlite activity store: batches", () => {
  test("query and stats include records still waiting in the batch", () => {
    const s = open({ path: join(dir(), "activity.db"), batchMs: 60_000, batchSize: 1000 });
    const rs = records(10);
    for (const r of rs) s.add(r);
    expect(s.lastId()).toBe(10);
    expect(s.query(parseActivityQuery(new URLSearchParams("order=asc"))).data).toEqual(rs);
    expect(s.stats()).toEqual(activityStats(rs));
  });

  test("a full batch is written on the next turn; a partial one after batchMs", async () => {
    const path = join(dir(), "activity.db");
    const s = open({ path, batchMs: 30, batchSize: 8 });
    const reader = new Database(path, { readonly: true });
    const count = () => (reader.query("SELECT COUNT(*) AS n FROM activity").get() as { n: number }).n;
    const rs = records(11);
    for (const r of rs.slice(0, 8)) s.add(r);
    // add() itself never writes.
    expect(count()).toBe(0);
    await waitFor(() => count() === 8, 2000, "the full batch");
    for (const r of rs.slice(8)) s.add(r);
    await waitFor(() => count() === 11, 2000, "the timer's batch");
    reader.close();
  });

  test("a failed write (the file locked by another writer) keeps the batch and retries", async () => {
    const path = join(dir(), "activity.db");
    const errs: unknown[] = [];
    const s = openSqliteActivityStore({ path, batchMs: 5, busyTimeoutMs: 1, onError: (e) => void errs.push(e) });
    opened.push(s);
    const other = new Database(path);
    other.run("BEGIN IMMEDIATE");
    const rs = records(5);
    for (const r of rs) s.add(r);
    await waitFor(() => errs.length > 0, 2000, "the failed write");
    expect(String(errs[0])).toMatch(/locked|busy/i);
    other.run("COMMIT");
    other.close();
    // The retry (or this flush) writes everything that waited.
    s.flush();
    expect(s.query(parseActivityQuery(new URLSearchParams("order=asc"))).data).toEqual(rs);
  });
});

describe("sqlite activity store: bad records", () => {
  test("a record SQLite refuses (NaN, missing fields) is left out and reported; the rest of its batch is stored", () => {
    const errs: unknown[] = [];
    const s = openSqliteActivityStore({ path: join(dir(), "activity.db"), now: () => T0, onError: (e) => void errs.push(e) });
    opened.push(s);
    const [a, b, c, d] = records(4);
    s.add(a!);
    s.add({ ...b!, tokens: { ...b!.tokens, tokens_per_second: NaN } });
    s.add({ ...c!, tokens: undefined } as unknown as ActivityRecord);
    s.add(d!);
    s.flush();
    expect(s.query(parseActivityQuery(new URLSearchParams("order=asc"))).data).toEqual([a, d]);
    expect(errs.map(String)).toEqual([expect.stringMatching(/^Error: 2 activity record\(s\) could not be stored \(2: NOT NULL constraint failed: activity.tokens_per_second; 3: .+\)$/)]);
    // A record with an id already stored (a second writer) keeps the first.
    s.add({ ...a!, model: "other" });
    s.flush();
    expect(s.query(parseActivityQuery(new URLSearchParams("order=asc"))).data).toEqual([a, d]);
    expect(String(errs[1])).toContain("1 activity record(s) had an id already stored");
  });
});

describe("sqlite activity store: retention", () => {
  test("by count: the newest maxRecords stay, ids still continue", () => {
    const path = join(dir(), "activity.db");
    const s = open({ path, maxRecords: 10, batchSize: 4 });
    const rs = records(25);
    for (const r of rs) s.add(r);
    s.flush();
    const all = s.query(parseActivityQuery(new URLSearchParams("limit=999&order=asc")));
    expect(all.total).toBe(10);
    expect(all.data).toEqual(rs.slice(15));
    expect(s.lastId()).toBe(25);
    s.close();
    // A smaller limit applies when the file is opened again.
    const again = open({ path, maxRecords: 3 });
    expect(again.query(parseActivityQuery(new URLSearchParams("order=asc"))).data.map((r) => r.id)).toEqual([23, 24, 25]);
    expect(again.lastId()).toBe(25);
  });

  test("by count, after rows were deleted behind its back (a prune in the sqlite3 shell): it still keeps maxRecords", () => {
    const path = join(dir(), "activity.db");
    const s = open({ path, maxRecords: 10 });
    const rs = records(30);
    for (const r of rs.slice(0, 10)) s.add(r);
    s.flush();
    const shell = new Database(path);
    shell.run("DELETE FROM activity WHERE id <= 5");
    shell.close();
    for (const r of rs.slice(10, 13)) s.add(r);
    s.flush();
    // 5 left + 3 new: under the limit, nothing goes.
    expect(s.query(parseActivityQuery(new URLSearchParams("limit=999&order=asc"))).data.map((r) => r.id)).toEqual([6, 7, 8, 9, 10, 11, 12, 13]);
    for (const r of rs.slice(13, 20)) s.add(r);
    s.flush();
    expect(s.query(parseActivityQuery(new URLSearchParams("limit=999&order=asc"))).data.map((r) => r.id)).toEqual([11, 12, 13, 14, 15, 16, 17, 18, 19, 20]);
  });

  test("by age (the injected clock): at open and after flushes, at most once a minute", () => {
    const path = join(dir(), "activity.db");
    let now = T0;
    const s = open({ path, maxAgeDays: 30, now: () => now });
    const day = 86_400_000;
    const at = (id: number, t: number): ActivityRecord => ({ ...records(1)[0]!, id, timestamp: new Date(t).toISOString() });
    s.add(at(1, T0 - 40 * day));
    s.add(at(2, T0 - 29 * day));
    s.add(at(3, T0 - 1 * day));
    s.add({ ...at(4, T0), timestamp: "not a time" });
    s.flush();
    const ids = () => s.query(parseActivityQuery(new URLSearchParams("order=asc"))).data.map((r) => r.id);
    // The sweep at open ran a moment ago: the next one waits for the clock to move a minute.
    expect(ids()).toEqual([1, 2, 3, 4]);
    now += 61_000;
    s.flush();
    expect(ids()).toEqual([2, 3, 4]);
    now += 2 * day;
    s.flush();
    // A record whose time does not parse has no age: it stays (until the count rule takes it).
    expect(ids()).toEqual([3, 4]);
    s.close();
    now += 30 * day;
    const again = open({ path, maxAgeDays: 30, now: () => now });
    expect(again.query(parseActivityQuery(new URLSearchParams(""))).data.map((r) => r.id)).toEqual([4]);
    expect(again.lastId()).toBe(4);
  });
});

describe("sqlite activity store: reopening and the schema", () => {
  test("reopen: records are there and lastId continues, even after retention removed them all", () => {
    const path = join(dir(), "activity.db");
    const rs = records(40);
    const s = open({ path });
    for (const r of rs) s.add(r);
    s.close();
    s.close(); // idempotent
    s.add(rs[0]!); // ignored after close
    const again = open({ path });
    expect(again.lastId()).toBe(40);
    expect(again.query(parseActivityQuery(new URLSearchParams("limit=999&order=asc"))).data).toEqual(rs);
    again.close();
    const aged = open({ path, now: () => T0 + 1000 * 86_400_000 });
    expect(aged.query(parseActivityQuery(new URLSearchParams(""))).total).toBe(1); // only "not a time" (id 7) stays
    expect(aged.lastId()).toBe(40);
  });

  test("a new file gets the current schema version and switchyard's application id", () => {
    const path = join(dir(), "activity.db");
    open({ path }).close();
    const db = new Database(path, { readonly: true });
    expect(db.query("PRAGMA user_version").get()).toEqual({ user_version: MIGRATIONS.length });
    expect(db.query("PRAGMA application_id").get()).toEqual({ application_id: APPLICATION_ID });
    expect(db.query("PRAGMA journal_mode").get()).toEqual({ journal_mode: "wal" });
    db.close();
  });

  test("a page sorted by time is read through an index, not by sorting every row", () => {
    const path = join(dir(), "activity.db");
    open({ path }).close();
    const db = new Database(path, { readonly: true });
    const plan = db.query("EXPLAIN QUERY PLAN SELECT * FROM activity ORDER BY ts DESC, id DESC LIMIT 25 OFFSET 50").all() as { detail: string }[];
    db.close();
    expect(plan.map((p) => p.detail).join("; ")).toContain("USING INDEX activity_ts");
    expect(plan.map((p) => p.detail).join("; ")).not.toContain("TEMP B-TREE");
  });

  test("an older file is migrated step by step, keeping its rows", () => {
    const path = join(dir(), "old.db");
    const v1: Migration = { name: "v1", up: (db) => db.run("CREATE TABLE t (id INTEGER PRIMARY KEY, a TEXT)") };
    const v2: Migration = { name: "v2", up: (db) => db.run("ALTER TABLE t ADD COLUMN b INTEGER NOT NULL DEFAULT 7") };
    const db = new Database(path);
    expect(migrate(db, [v1])).toBe(0);
    db.run("INSERT INTO t (a) VALUES ('kept')");
    expect(migrate(db, [v1])).toBe(1); // nothing to do
    expect(migrate(db, [v1, v2])).toBe(1);
    expect(db.query("PRAGMA user_version").get()).toEqual({ user_version: 2 });
    expect(db.query("SELECT a, b FROM t").all()).toEqual([{ a: "kept", b: 7 }]);
    // A step that fails leaves the file at the version before it.
    const bad: Migration = { name: "bad", up: (d) => d.run("ALTER TABLE nope ADD COLUMN c") };
    expect(() => migrate(db, [v1, v2, bad])).toThrow("no such table");
    expect(db.query("PRAGMA user_version").get()).toEqual({ user_version: 2 });
    db.close();
  });

  test("a second connection migrating at the same moment waits for the first, then finds nothing to do", () => {
    const path = join(dir(), "race.db");
    const second = new Database(path);
    second.run("PRAGMA busy_timeout = 0");
    let during: unknown = null;
    // The second connection tries while the first is inside its step (as two processes starting at once would).
    const v1: Migration = {
      name: "v1",
      up(db) {
        try {
          migrate(second, [v1]);
        } catch (err) {
          during = err;
        }
        db.run("CREATE TABLE t (id INTEGER PRIMARY KEY)");
      },
    };
    const first = new Database(path);
    expect(migrate(first, [v1])).toBe(0);
    // It could not start (it would have waited, with a busy timeout): no second CREATE ran under the first.
    expect((during as { code?: string } | null)?.code).toBe("SQLITE_BUSY");
    expect(migrate(second, [v1])).toBe(1);
    expect(second.query("PRAGMA user_version").get()).toEqual({ user_version: 1 });
    first.close();
    second.close();
  });

  test("a write lock held at open (a backup, a sqlite3 session) does not stop the start; the age sweep runs at the next flush", () => {
    const path = join(dir(), "activity.db");
    const day = 86_400_000;
    const old = { ...records(1)[0]!, id: 1, timestamp: new Date(T0 - 40 * day).toISOString() };
    const first = open({ path, maxAgeDays: Infinity });
    first.add(old);
    first.close();
    const other = new Database(path);
    other.run("BEGIN IMMEDIATE");
    const errs: unknown[] = [];
    const s = openSqliteActivityStore({ path, maxAgeDays: 30, busyTimeoutMs: 0, now: () => T0, onError: (e) => void errs.push(e) });
    opened.push(s);
    expect(errs.map(String)).toEqual([expect.stringMatching(/locked|busy/i)]);
    other.run("COMMIT");
    other.close();
    s.flush();
    expect(s.query(parseActivityQuery(new URLSearchParams(""))).total).toBe(0);
  });

  test("a file from a newer switchyard is refused with the path and the reason", () => {
    const path = join(dir(), "future.db");
    open({ path }).close();
    const db = new Database(path);
    db.run(`PRAGMA user_version = ${MIGRATIONS.length + 1}`);
    db.close();
    expect(() => openSqliteActivityStore({ path })).toThrow(`cannot open the activity store "${path}": its schema version ${MIGRATIONS.length + 1} is newer than this switchyard knows (${MIGRATIONS.length})`);
  });

  test("another program's database (llama-swap's store, an application id) is refused, not changed", () => {
    const path = join(dir(), "llama-swap.db");
    const db = new Database(path);
    db.run("CREATE TABLE goose_db_version (id INTEGER PRIMARY KEY)");
    db.run("CREATE TABLE activity (id INTEGER PRIMARY KEY AUTOINCREMENT, ts_created INTEGER NOT NULL)");
    db.close();
    expect(() => openSqliteActivityStore({ path })).toThrow(/the file has tables \(activity, goose_db_version\) but no switchyard schema/);
    // Not changed: still in its rollback journal (a WAL switch is permanent), nothing made beside it.
    const header = readFileSync(path).subarray(18, 20);
    expect([...header]).toEqual([1, 1]);
    expect(existsSync(`${path}-wal`)).toBe(false);
    expect(existsSync(`${path}-lock`)).toBe(false);
    const other = join(dir(), "other.db");
    const db2 = new Database(other);
    db2.run("PRAGMA application_id = 1234");
    db2.close();
    expect(() => openSqliteActivityStore({ path: other })).toThrow("the file belongs to another program (application_id 1234)");
  });
});

describe("sqlite activity store: one writer per file", () => {
  const storeModule = join(import.meta.dir, "../../src/store/sqlite-activity-store.ts");
  /** A child process that opens the store at `path`, says so on stdout, and holds it until its stdin closes (or it is killed). */
  const holder = async (path: string) => {
    const code = `import { openSqliteActivityStore } from ${JSON.stringify(storeModule)};
      const s = openSqliteActivityStore({ path: ${JSON.stringify(path)} });
      console.log("opened");
      for await (const _ of Bun.stdin.stream()) {}
      s.close();`;
    const child = Bun.spawn([process.execPath, "-e", code], { stdin: "pipe", stdout: "pipe", stderr: "pipe" });
    const reader = child.stdout.getReader();
    let out = "";
    while (!out.includes("opened")) {
      const { done, value } = await reader.read();
      if (done) throw new Error(`the holder exited: ${await new Response(child.stderr).text()}`);
      out += new TextDecoder().decode(value);
    }
    reader.releaseLock();
    return child;
  };

  test("a second process on the same file is refused at open, and can open once the first has closed it", async () => {
    const path = join(dir(), "activity.db");
    const child = await holder(path);
    expect(() => openSqliteActivityStore({ path })).toThrow(
      `cannot open the activity store "${path}": another switchyard process is using it (its lock ${path}-lock is held); give each switchyard its own store.path`,
    );
    child.stdin.end();
    expect(await child.exited).toBe(0);
    const s = open({ path });
    s.add(records(1)[0]!);
    s.flush();
    expect(s.query(parseActivityQuery(new URLSearchParams(""))).total).toBe(1);
    // ... and in one process, a second open of a file already open.
    expect(() => openSqliteActivityStore({ path })).toThrow("another switchyard process is using it");
  });

  test("a holder killed with SIGKILL leaves no stale lock", async () => {
    const path = join(dir(), "activity.db");
    const child = await holder(path);
    child.kill("SIGKILL");
    await child.exited;
    const s = open({ path });
    expect(s.lastId()).toBe(0);
  });

  test("a file that is not opened leaves no lock file behind", () => {
    const d = dir();
    writeFileSync(join(d, "junk.db"), "not a database, not even close to one, but long enough to have a header".repeat(10));
    expect(() => openSqliteActivityStore({ path: join(d, "junk.db") })).toThrow("not a SQLite database");
    expect(readdirSync(d)).toEqual(["junk.db"]);
  });
});

describe("sqlite activity store: cannot open", () => {
  const reason = (path: string): string => {
    try {
      openSqliteActivityStore({ path }).close();
    } catch (err) {
      expect(err).toBeInstanceOf(ActivityStoreOpenError);
      expect((err as Error).message.startsWith(`cannot open the activity store "${path}": `)).toBe(true);
      return (err as ActivityStoreOpenError).reason;
    }
    throw new Error(`${path} opened`);
  };

  test("a corrupt file (random bytes)", () => {
    const path = join(dir(), "activity.db");
    const rnd = prng(3);
    writeFileSync(path, Uint8Array.from({ length: 16384 }, () => Math.floor(rnd() * 256)));
    expect(reason(path)).toBe("not a SQLite database, or corrupt (file is not a database)");
  });

  test("a damaged database (a valid header, pages overwritten)", () => {
    const path = join(dir(), "activity.db");
    const s = openSqliteActivityStore({ path });
    for (const r of records(300)) s.add(r);
    s.close();
    const bytes = new Uint8Array(readFileSync(path));
    // Keep the 100-byte header and the first page; scribble over the rest.
    for (let i = 4096 + 50; i < bytes.length; i += 7) bytes[i] = 0xa5;
    writeFileSync(path, bytes);
    const why = reason(path);
    expect(why).toMatch(/^the database is corrupt \(.+\)$/);
    expect(why.length).toBeLessThan(400);
  });

  test("a path under a file", () => {
    const d = dir();
    writeFileSync(join(d, "afile"), "x");
    expect(reason(join(d, "afile", "activity.db"))).toBe(`${join(d, "afile")} is a file, not a directory`);
  });

  test("a directory that does not exist", () => {
    const d = join(dir(), "missing", "deeper");
    expect(reason(join(d, "activity.db"))).toBe(`the directory ${d} does not exist`);
  });

  test("a directory as the path", () => {
    const d = dir();
    expect(reason(d)).toBe(`${d} is a directory, not a file`);
  });

  test("a directory without write permission (as root, where permissions do not bind: a read-only file system)", () => {
    if (process.getuid?.() !== 0) {
      const d = dir();
      chmodSync(d, 0o555);
      try {
        expect(reason(join(d, "activity.db"))).toBe(`the directory ${d} is not writable (EACCES)`);
      } finally {
        chmodSync(d, 0o755);
      }
      return;
    }
    // /proc takes no new files, whoever asks.
    expect(reason("/proc/switchyard-activity.db")).toBe("unable to open database file (open: ENOENT, no such file or directory)");
  });
});

test("utf16Key orders like JavaScript strings", () => {
  const words = ["", "a", "ab", "b", "\uff41", "\u{1f600}", "\ud7ff", "\ue000"];
  const byJs = [...words].sort((x, y) => (x < y ? -1 : x > y ? 1 : 0));
  const cmp = (x: Uint8Array, y: Uint8Array): number => {
    for (let i = 0; i < Math.min(x.length, y.length); i++) if (x[i] !== y[i]) return x[i]! - y[i]!;
    return x.length - y.length;
  };
  expect([...words].sort((x, y) => cmp(utf16Key(x), utf16Key(y)))).toEqual(byJs);
});

test("no write errors were reported by the stores above", () => {
  expect(errors).toEqual([]);
});
