/**
 * The persistent activity store (llama-swap's `store.path`): the ActivityStore port over a SQLite
 * file through `bun:sqlite`. An edge like cli/: the core never imports it, serve.ts opens it.
 *
 * - One writer (this process, held by an OS lock on `<path>-lock`; a second process is refused): WAL journal, `synchronous=NORMAL` (a commit survives a crash of the
 *   process, kill -9 included; only a crash of the OS can lose the last commits), a busy timeout.
 * - `add()` only appends to an in-memory batch. A timer (`batchMs`) or the batch size (`batchSize`,
 *   on the next turn of the event loop) writes the batch in ONE transaction with one prepared
 *   statement. What a kill -9 can lose is the batch not yet written: the records finished in the
 *   last `batchMs`, at most about `batchSize` of them.
 * - Retention after flushes: by count (`maxRecords`: the oldest ids go; cheap, from a row count
 *   kept in memory) and by age (`maxAgeDays`, by arrival time; swept at open and at most once a
 *   minute by the store's clock).
 * - `query` / `stats` in SQL, with exactly the results of the memory store (activity-query.ts) on
 *   the same records: the same filters, sort keys and tie-break on id, page errors and histogram
 *   rules. They flush first, so records still in the batch are included. Text sort keys are stored
 *   as UTF-16 code units (big-endian BLOBs) so SQLite's byte order is JavaScript's string order.
 *   Every field of the record has its column, so what is read back is deep-equal to what was added.
 * - Schema: `PRAGMA user_version` and the ordered MIGRATIONS below; an older file is migrated on
 *   open, a file from a newer switchyard (or another program) is refused with a clear error.
 */
import { Database, type SQLQueryBindings, type Statement } from "bun:sqlite";
import { accessSync, closeSync, constants, existsSync, openSync, statSync, unlinkSync } from "node:fs";
import { dirname, resolve } from "node:path";
import type { ActivityRecord } from "../observe/activity.ts";
import { ActivityQueryError, type ActivityPage, type ActivityQuery, type ActivityStats, type HistogramData, type SortKey } from "../observe/activity-query.ts";
import type { ActivityStore } from "../observe/activity-store.ts";

/** Options of openSqliteActivityStore. */
export interface SqliteActivityStoreOptions {
  /** The database file (created when missing; its directory must exist and be writable). */
  path: string;
  /** Records kept, newest by id (default 100000; Infinity = no limit). */
  maxRecords?: number;
  /** Days a record is kept after it arrived (default 30; Infinity = no limit). */
  maxAgeDays?: number;
  /** Longest a record waits in the batch before it is written (default 250 ms). */
  batchMs?: number;
  /** A batch this large is written at once, on the next turn of the event loop (default 64). */
  batchSize?: number;
  /** Clock for the age rule, epoch ms (default Date.now). */
  now?: () => number;
  /** A write that failed (the batch is kept and retried with back-off); default console.error. */
  onError?: (err: unknown) => void;
  /** How long a write waits for another connection's lock (default 1000 ms; the event loop waits too). */
  busyTimeoutMs?: number;
}

/** The store could not be opened: `path` and a reason a person can act on. */
export class ActivityStoreOpenError extends Error {
  constructor(
    readonly path: string,
    readonly reason: string,
  ) {
    super(`cannot open the activity store "${path}": ${reason}`);
    this.name = "ActivityStoreOpenError";
  }
}

/** One step of the schema: `up` runs inside a transaction that then sets user_version to its index + 1. */
export interface Migration {
  name: string;
  up(db: Database): void;
}

/** The schema, oldest first; a file's `user_version` is how many of these it has had. Append only. */
export const MIGRATIONS: readonly Migration[] = [
  {
    name: "create activity",
    up(db) {
      // One column per field of ActivityRecord (so a row reads back exactly, and the table stays
      // narrow for the scans of stats), plus: ts_ms (the arrival as epoch ms, for time filters and
      // the age rule) and *_key (UTF-16 code units, the sort and filter keys of the text columns).
      db.run(`CREATE TABLE activity (
        id INTEGER PRIMARY KEY AUTOINCREMENT,
        ts TEXT NOT NULL,
        ts_ms INTEGER,
        model TEXT NOT NULL,
        model_key BLOB NOT NULL,
        peer TEXT NOT NULL,
        req_path TEXT NOT NULL,
        req_path_key BLOB NOT NULL,
        client TEXT NOT NULL,
        resp_status_code INTEGER NOT NULL,
        resp_content_type TEXT NOT NULL,
        resp_content_type_key BLOB NOT NULL,
        cache_tokens INTEGER NOT NULL,
        draft_tokens INTEGER NOT NULL,
        draft_acc_tokens INTEGER NOT NULL,
        input_tokens INTEGER NOT NULL,
        output_tokens INTEGER NOT NULL,
        prompt_per_second REAL NOT NULL,
        tokens_per_second REAL NOT NULL,
        duration_ms INTEGER NOT NULL,
        has_capture INTEGER NOT NULL,
        error_msg TEXT,
        queue_wait_ms INTEGER,
        load_wait_ms INTEGER,
        ttfb_ms INTEGER,
        ttft_ms INTEGER,
        streamed INTEGER NOT NULL,
        outcome TEXT NOT NULL,
        bytes_in INTEGER NOT NULL,
        bytes_out INTEGER NOT NULL,
        usage_prompt_tokens INTEGER,
        usage_completion_tokens INTEGER,
        usage_cached_tokens INTEGER,
        usage_draft_tokens INTEGER,
        usage_draft_accepted INTEGER,
        usage_prompt_per_second REAL,
        usage_generation_per_second REAL,
        usage_prompt_ms REAL,
        usage_generation_ms REAL
      )`);
      db.run("CREATE INDEX activity_ts_ms ON activity (ts_ms)");
      db.run("CREATE INDEX activity_model ON activity (model_key, id)");
      // The speed histograms over all models read the speeds in order: counts, ends, percentiles
      // and bin edges are index range reads, not scans of the table. Not partial (WHERE c > 0):
      // SQLite would then take c > 0 as the start of every range. Not per model either: an index
      // per model and speed doubled the cost of a write, for stats the UI does not ask for.
      for (const c of ["prompt_per_second", "tokens_per_second"]) db.run(`CREATE INDEX activity_${c} ON activity (${c})`);
      // Totals per model, kept by triggers in the same transactions as the rows.
      db.run(`CREATE TABLE activity_totals (
        model_key BLOB PRIMARY KEY,
        requests INTEGER NOT NULL,
        input_tokens INTEGER NOT NULL,
        output_tokens INTEGER NOT NULL,
        cache_tokens INTEGER NOT NULL
      ) WITHOUT ROWID`);
      db.run(`CREATE TRIGGER activity_totals_insert AFTER INSERT ON activity BEGIN
        INSERT OR IGNORE INTO activity_totals VALUES (NEW.model_key, 0, 0, 0, 0);
        UPDATE activity_totals SET requests = requests + 1, input_tokens = input_tokens + NEW.input_tokens,
          output_tokens = output_tokens + NEW.output_tokens, cache_tokens = cache_tokens + MAX(0, NEW.cache_tokens)
        WHERE model_key = NEW.model_key;
      END`);
      db.run(`CREATE TRIGGER activity_totals_delete AFTER DELETE ON activity BEGIN
        UPDATE activity_totals SET requests = requests - 1, input_tokens = input_tokens - OLD.input_tokens,
          output_tokens = output_tokens - OLD.output_tokens, cache_tokens = cache_tokens - MAX(0, OLD.cache_tokens)
        WHERE model_key = OLD.model_key;
        DELETE FROM activity_totals WHERE model_key = OLD.model_key AND requests = 0;
      END`);
    },
  },
  {
    name: "add metadata",
    up(db) {
      // llama-swap's request metadata (the selector that chose the model), as JSON; NULL when none.
      db.run("ALTER TABLE activity ADD COLUMN metadata TEXT");
    },
  },
  {
    name: "index the time sort",
    up(db) {
      // The UI's time column sorts by ts with id as the tie-break: a page is then an index range
      // read, not a sort of every row (about 200 ms at 100,000 records, with the loop waiting).
      db.run("CREATE INDEX activity_ts ON activity (ts, id)");
    },
  },
];

/** `PRAGMA application_id` of a switchyard store ("SWYD"). */
export const APPLICATION_ID = 0x53575944;

const DEFAULT_MAX_RECORDS = 100_000;
const DEFAULT_MAX_AGE_DAYS = 30;
const DEFAULT_BATCH_MS = 250;
const DEFAULT_BATCH_SIZE = 64;
const BUSY_TIMEOUT_MS = 1000;
/** The age rule runs at most this often (by the store's clock). */
const AGE_SWEEP_MS = 60_000;
/** Records kept for a retry while writes fail; beyond this the oldest are dropped (and reported). */
const MAX_PENDING = 100_000;
const MAX_RETRY_MS = 30_000;
const DAY_MS = 86_400_000;
const BINS = 20;

/** The SQL column of each sort key (a whitelist: no user text ever reaches the SQL). */
const SORT_COLUMNS: Record<SortKey, string> = {
  id: "id",
  time: "ts",
  model: "model_key",
  req_path: "req_path_key",
  resp_status_code: "resp_status_code",
  resp_content_type: "resp_content_type_key",
  cached: "cache_tokens",
  prompt: "input_tokens",
  generated: "output_tokens",
  drafted: "draft_tokens",
  prompt_speed: "prompt_per_second",
  gen_speed: "tokens_per_second",
  duration: "duration_ms",
};

/** The columns a record is written to and read from, in this order (rowOf and recordOf follow it). */
const COLUMNS = [
  "id", "ts", "ts_ms", "model", "model_key", "peer", "req_path", "req_path_key", "client", "resp_status_code", "resp_content_type", "resp_content_type_key",
  "cache_tokens", "draft_tokens", "draft_acc_tokens", "input_tokens", "output_tokens", "prompt_per_second", "tokens_per_second",
  "duration_ms", "has_capture", "error_msg", "queue_wait_ms", "load_wait_ms", "ttfb_ms", "ttft_ms", "streamed", "outcome", "bytes_in", "bytes_out",
  "usage_prompt_tokens", "usage_completion_tokens", "usage_cached_tokens", "usage_draft_tokens", "usage_draft_accepted",
  "usage_prompt_per_second", "usage_generation_per_second", "usage_prompt_ms", "usage_generation_ms", "metadata",
] as const;

// Plain INSERT, not OR IGNORE: OR IGNORE would also skip a NOT NULL violation silently.
const INSERT = `INSERT INTO activity (${COLUMNS.join(", ")}) VALUES (${COLUMNS.map(() => "?").join(", ")})`;
const SELECT_RECORD = `SELECT ${COLUMNS.join(", ")} FROM activity`;

/** A string's UTF-16 code units, big-endian: BLOBs compare (memcmp, shorter first) as JS compares strings. */
export function utf16Key(s: string): Uint8Array {
  const out = new Uint8Array(s.length * 2);
  for (let i = 0; i < s.length; i++) {
    const c = s.charCodeAt(i);
    out[2 * i] = c >> 8;
    out[2 * i + 1] = c & 0xff;
  }
  return out;
}

/** The string a utf16Key holds (exact, lone surrogates included). */
function fromUtf16Key(key: Uint8Array): string {
  let out = "";
  for (let i = 0; i + 1 < key.length; i += 2) out += String.fromCharCode((key[i]! << 8) | key[i + 1]!);
  return out;
}

/** A record as the row COLUMNS describe. */
function rowOf(r: ActivityRecord): SQLQueryBindings[] {
  const t = Date.parse(r.timestamp);
  const k = r.tokens;
  const u = r.usage;
  return [
    r.id, r.timestamp, Number.isFinite(t) ? t : null, r.model, utf16Key(r.model), r.peer, r.req_path, utf16Key(r.req_path), r.client, r.resp_status_code, r.resp_content_type, utf16Key(r.resp_content_type),
    k.cache_tokens, k.draft_tokens, k.draft_acc_tokens, k.input_tokens, k.output_tokens, k.prompt_per_second, k.tokens_per_second,
    r.duration_ms, r.has_capture ? 1 : 0, r.error_msg ?? null, r.queue_wait_ms, r.load_wait_ms, r.ttfb_ms, r.ttft_ms, r.streamed ? 1 : 0, r.outcome, r.bytes_in, r.bytes_out,
    u.promptTokens, u.completionTokens, u.cachedTokens, u.draftTokens, u.draftAccepted,
    u.promptPerSecond, u.generationPerSecond, u.promptMs, u.generationMs, r.metadata ? JSON.stringify(r.metadata) : null,
  ];
}

/** The record a row (in COLUMNS order) holds, with its fields in the activity log's order. */
function recordOf(v: SQLQueryBindings[]): ActivityRecord {
  const n = (i: number) => v[i] as number;
  const nn = (i: number) => v[i] as number | null;
  return {
    id: n(0),
    timestamp: v[1] as string,
    // The text columns are for people reading the file; the keys hold the exact strings.
    model: fromUtf16Key(v[4] as Uint8Array),
    peer: v[5] as string,
    req_path: fromUtf16Key(v[7] as Uint8Array),
    client: v[8] as string,
    resp_status_code: n(9),
    resp_content_type: fromUtf16Key(v[11] as Uint8Array),
    tokens: { cache_tokens: n(12), draft_tokens: n(13), draft_acc_tokens: n(14), input_tokens: n(15), output_tokens: n(16), prompt_per_second: n(17), tokens_per_second: n(18) },
    duration_ms: n(19),
    has_capture: v[20] === 1,
    ...(v[21] !== null ? { error_msg: v[21] as string } : {}),
    queue_wait_ms: nn(22),
    load_wait_ms: nn(23),
    ttfb_ms: nn(24),
    ttft_ms: nn(25),
    streamed: v[26] === 1,
    outcome: v[27] as ActivityRecord["outcome"],
    bytes_in: n(28),
    bytes_out: n(29),
    usage: {
      promptTokens: nn(30),
      completionTokens: nn(31),
      cachedTokens: nn(32),
      draftTokens: nn(33),
      draftAccepted: nn(34),
      promptPerSecond: nn(35),
      generationPerSecond: nn(36),
      promptMs: nn(37),
      generationMs: nn(38),
    },
    ...(v[39] !== null && v[39] !== undefined ? { metadata: JSON.parse(v[39] as string) as Record<string, string> } : {}),
  };
}

/** An error about one record (its values), not about the database. */
function isRecordError(err: unknown): boolean {
  const code = (err as { code?: unknown }).code;
  if (typeof code === "string") return code.startsWith("SQLITE_CONSTRAINT") || code === "SQLITE_MISMATCH" || code === "SQLITE_TOOBIG" || code === "SQLITE_RANGE";
  return err instanceof TypeError || err instanceof RangeError;
}

/**
 * What the system says when the file is opened for writing (SQLite's CANTOPEN does not say), as
 * " (open: CODE, text)"; "" when that open works. A file the probe creates is removed again.
 */
function osReason(path: string): string {
  const existed = existsSync(path);
  try {
    closeSync(openSync(path, "a"));
    if (!existed) unlinkSync(path);
    return "";
  } catch (err) {
    const e = err as NodeJS.ErrnoException;
    const text = e.message.replace(/^[A-Z]+: /, "").replace(/, open .*$/, "");
    return ` (open: ${e.code ?? "error"}, ${text})`;
  }
}

function messageOf(err: unknown): string {
  return err instanceof Error ? err.message : String(err);
}

/**
 * Why the path cannot hold a database, checked before SQLite tries (its own message is only
 * "unable to open database file"); null when it looks usable.
 */
function pathProblem(path: string): string | null {
  const file = resolve(path);
  const dir = dirname(file);
  try {
    if (statSync(file).isDirectory()) return `${file} is a directory, not a file`;
    try {
      accessSync(file, constants.R_OK | constants.W_OK);
    } catch (err) {
      return `the file is not readable and writable (${(err as NodeJS.ErrnoException).code ?? messageOf(err)})`;
    }
  } catch (err) {
    const code = (err as NodeJS.ErrnoException).code;
    if (code !== "ENOENT" && code !== "ENOTDIR") return messageOf(err);
  }
  // The directory must exist and be writable: a new file is created there, and so are the WAL's
  // -wal and -shm files beside an existing one.
  let existing = dir;
  for (;;) {
    try {
      const st = statSync(existing);
      if (!st.isDirectory()) return `${existing} is a file, not a directory`;
      break;
    } catch {
      const up = dirname(existing);
      if (up === existing) break;
      existing = up;
    }
  }
  if (existing !== dir) return `the directory ${dir} does not exist`;
  try {
    accessSync(dir, constants.W_OK);
  } catch (err) {
    return `the directory ${dir} is not writable (${(err as NodeJS.ErrnoException).code ?? messageOf(err)})`;
  }
  return null;
}

/**
 * Why the file cannot be a switchyard store (another program's, a newer switchyard's), read
 * without writing anything; the file's schema version when it can. Throws an Error with the reason.
 */
function checkOwner(db: Database, migrations: readonly Migration[]): number {
  const version = (db.query("PRAGMA user_version").get() as { user_version: number }).user_version;
  const appId = (db.query("PRAGMA application_id").get() as { application_id: number }).application_id;
  if (appId !== 0 && appId !== APPLICATION_ID) {
    throw new Error(`the file belongs to another program (application_id ${appId}); use another path`);
  }
  if (version > 0 && appId !== APPLICATION_ID) {
    throw new Error(`the file has schema version ${version} but is not a switchyard store (application_id ${appId}); use another path`);
  }
  if (version > migrations.length) {
    throw new Error(`its schema version ${version} is newer than this switchyard knows (${migrations.length}); use a newer switchyard or another path`);
  }
  if (version === 0) {
    const tables = db.query("SELECT name FROM sqlite_master WHERE type = 'table' AND name NOT LIKE 'sqlite_%' ORDER BY name").values().map((row) => String(row[0]));
    if (tables.length > 0) {
      throw new Error(`the file has tables (${tables.join(", ")}) but no switchyard schema (another program's database, or llama-swap's store?); use another path`);
    }
  }
  return version;
}

/**
 * Bring a database to the newest schema of `migrations`, all steps in one IMMEDIATE transaction
 * whose checks read the version inside it: a second process opening the same file at the same
 * moment waits, then finds nothing to do (deferred steps both ran the same CREATE). Refuses a file
 * from a newer version, and a file that has tables but no switchyard schema. Returns the version
 * the file had. Throws an Error with the reason; a failed step leaves the file as it was.
 */
export function migrate(db: Database, migrations: readonly Migration[] = MIGRATIONS): number {
  // Up to date: no write lock asked for (another connection may hold it for a while).
  const seen = checkOwner(db, migrations);
  if (seen === migrations.length) return seen;
  return db
    .transaction(() => {
      const version = checkOwner(db, migrations);
      for (let v = version; v < migrations.length; v++) {
        migrations[v]!.up(db);
        // Pragmas take no parameters; v is a number from this code, not input.
        db.run(`PRAGMA user_version = ${v + 1}`);
        db.run(`PRAGMA application_id = ${APPLICATION_ID}`);
      }
      return version;
    })
    .immediate();
}

/** A histogram from n sorted values (at(rank)), their max, and the bins for a min and binSize. */
function histogramOf(n: number, at: (rank: number) => number, max: number, binsFor: (min: number, binSize: number) => number[]): HistogramData | null {
  if (n === 0) return null;
  const min = at(0);
  const binSize = max > min ? (max - min) / BINS : 1;
  const bins = max > min ? binsFor(min, binSize) : [n, ...new Array<number>(BINS - 1).fill(0)];
  const pct = (p: number): number => at(Math.min(n - 1, Math.ceil((p / 100) * n) - 1));
  return { bins, min, max, binSize, p50: pct(50), p95: pct(95), p99: pct(99) };
}

const bits = new Float64Array(1);
const bitsInt = new BigInt64Array(bits.buffer);
/** The next double after a positive finite x, up (+1) or down (-1). */
function nextDouble(x: number, dir: 1 | -1): number {
  bits[0] = x;
  bitsInt[0] += BigInt(dir);
  return bits[0];
}

/**
 * The exact bin edges of a histogram: for each bin i in 1..19, the smallest double e with
 * binOf(e) >= i. binOf is monotonic in v (IEEE subtraction and division round monotonically, and
 * floor and min keep order), so a value is in a bin below i exactly when it is < e, and a bin's
 * count is a range count. Each edge is found from min + i * binSize in a few ulp steps; null
 * when one is not (the caller then groups every value by its bin).
 */
function binEdges(min: number, binSize: number, binOf: (v: number) => number): number[] | null {
  const edges: number[] = [];
  for (let i = 1; i < BINS; i++) {
    let e = min + i * binSize;
    if (!(e > 0) || !Number.isFinite(e)) return null;
    let steps = 0;
    if (binOf(e) >= i) {
      for (let down = nextDouble(e, -1); binOf(down) >= i; down = nextDouble(e, -1)) {
        e = down;
        if (++steps > 64) return null;
      }
    } else {
      do {
        e = nextDouble(e, 1);
        if (++steps > 64) return null;
      } while (binOf(e) < i);
    }
    edges.push(e);
  }
  return edges;
}

/** Open (creating or migrating) the store at `opts.path`; throws ActivityStoreOpenError. */
export function openSqliteActivityStore(opts: SqliteActivityStoreOptions): ActivityStore {
  const problem = pathProblem(opts.path);
  if (problem !== null) throw new ActivityStoreOpenError(opts.path, problem);
  // One writer per file: ids are numbered from the file's last id once, at open, so a second
  // process on the same file would collide with the first and lose records.
  const lock = lockStore(opts.path);
  let db: Database;
  try {
    db = new Database(opts.path, { create: true, readwrite: true, strict: true });
  } catch (err) {
    lock.release(true);
    throw new ActivityStoreOpenError(opts.path, (err as { code?: unknown }).code === "SQLITE_CANTOPEN" ? `${messageOf(err)}${osReason(opts.path)}` : messageOf(err));
  }
  try {
    return createStore(db, opts, lock);
  } catch (err) {
    try {
      db.close(true);
    } catch {
      // Already failing: the first error is the one to report.
    }
    lock.release(true);
    const msg = messageOf(err);
    const code = (err as { code?: string }).code;
    const reason =
      code === "SQLITE_NOTADB" ? `not a SQLite database, or corrupt (${msg})` : code === "SQLITE_CORRUPT" ? `the database is corrupt (${msg})` : msg;
    throw new ActivityStoreOpenError(opts.path, reason);
  }
}

/** The lock file beside a store: `<path>-lock`, as SQLite names its `-wal` and `-shm`. */
function lockPathOf(path: string): string {
  return `${path}-lock`;
}

/** A held store lock. */
interface StoreLock {
  /** Let the next process have the file (and remove the lock file if this open made it and failed). */
  release(failed?: boolean): void;
}

/**
 * Take the store's lock for the life of the process: an exclusive SQLite lock on `<path>-lock`,
 * held in an open transaction. SQLite's locks are the OS's file locks, so a crash or kill -9 frees
 * it at once, with no stale pid file to clear by hand; and the store file itself stays readable by
 * the sqlite3 shell while switchyard runs (an exclusive locking mode on it would not).
 */
function lockStore(path: string): StoreLock {
  const lockPath = lockPathOf(path);
  const existed = existsSync(lockPath);
  let lock: Database;
  try {
    lock = new Database(lockPath, { create: true, readwrite: true });
  } catch (err) {
    // The lock file is made where the database and its -wal are: the same reason stops all three.
    const cantOpen = (err as { code?: unknown }).code === "SQLITE_CANTOPEN";
    throw new ActivityStoreOpenError(path, cantOpen ? `${messageOf(err)}${osReason(lockPath)}` : `cannot create its lock file ${lockPath}: ${messageOf(err)}`);
  }
  try {
    lock.run("PRAGMA busy_timeout = 0");
    lock.run("PRAGMA locking_mode = EXCLUSIVE");
    lock.run("BEGIN EXCLUSIVE");
  } catch (err) {
    lock.close();
    const busy = (err as { code?: unknown }).code === "SQLITE_BUSY";
    throw new ActivityStoreOpenError(
      path,
      busy ? `another switchyard process is using it (its lock ${lockPath} is held); give each switchyard its own store.path` : `cannot lock ${lockPath}: ${messageOf(err)}`,
    );
  }
  let held = true;
  return {
    release(failed = false) {
      if (!held) return;
      held = false;
      try {
        lock.close();
      } catch {
        // The OS frees the lock with the file handle in any case.
      }
      if (failed && !existed) {
        try {
          unlinkSync(lockPath);
        } catch {
          // Only tidiness.
        }
      }
    },
  };
}

function createStore(db: Database, opts: SqliteActivityStoreOptions, lock: StoreLock): ActivityStore {
  const maxRecords = Math.max(1, opts.maxRecords ?? DEFAULT_MAX_RECORDS);
  const maxAgeMs = (opts.maxAgeDays ?? DEFAULT_MAX_AGE_DAYS) * DAY_MS;
  const batchMs = Math.max(0, opts.batchMs ?? DEFAULT_BATCH_MS);
  const batchSize = Math.max(1, opts.batchSize ?? DEFAULT_BATCH_SIZE);
  const now = opts.now ?? Date.now;
  const onError = opts.onError ?? ((err: unknown) => console.error(`switchyard: activity store: ${messageOf(err)}`));

  db.run(`PRAGMA busy_timeout = ${Math.max(0, Math.floor(opts.busyTimeoutMs ?? BUSY_TIMEOUT_MS))}`);
  // The first statements that read the file: a file that is not a database fails here. Another
  // program's database is refused before anything changes it (the WAL switch below is permanent).
  checkOwner(db, MIGRATIONS);
  const mode = (db.query("PRAGMA journal_mode = WAL").get() as { journal_mode: string }).journal_mode;
  if (mode.toLowerCase() !== "wal") throw new Error(`cannot use the WAL journal (SQLite kept ${mode})`);
  db.run("PRAGMA synchronous = NORMAL");
  const check = db
    .query("PRAGMA quick_check(3)")
    .values()
    .flatMap((row) => String(row[0]).split("\n"))
    .filter((line) => line !== "" && !line.startsWith("*** "));
  if (check.length !== 1 || check[0] !== "ok") throw Object.assign(new Error(check.slice(0, 3).join("; ")), { code: "SQLITE_CORRUPT" });
  migrate(db);

  const insert = db.prepare(INSERT);
  // A record SQLite refuses (a NaN where a number must be, a malformed record) is left out and
  // reported; it must not hold back the rest. Any other error (locked, I/O, disk full) aborts the
  // transaction, and the batch is tried again.
  const writeBatch = db.transaction((records: ActivityRecord[]) => {
    let stored = 0;
    let duplicates = 0;
    const refused: string[] = [];
    for (const r of records) {
      try {
        stored += insert.run(...rowOf(r)).changes;
      } catch (err) {
        if ((err as { code?: unknown }).code === "SQLITE_CONSTRAINT_PRIMARYKEY") duplicates++;
        else if (isRecordError(err)) refused.push(`${(r as Partial<ActivityRecord> | null)?.id ?? "?"}: ${messageOf(err)}`);
        else throw err;
      }
    }
    return { stored, refused, duplicates };
  });
  const trimBeyond = db.prepare("DELETE FROM activity WHERE id <= (SELECT id FROM activity ORDER BY id DESC LIMIT 1 OFFSET ?)");
  const trimBefore = db.prepare("DELETE FROM activity WHERE ts_ms < ?");
  const countRows = db.prepare("SELECT COUNT(*) AS n FROM activity");
  const sequence = db.prepare("SELECT seq FROM sqlite_sequence WHERE name = 'activity'");
  const cached = new Map<string, Statement>();
  const stmt = (sql: string): Statement => {
    let s = cached.get(sql);
    if (!s) cached.set(sql, (s = db.prepare(sql)));
    return s;
  };

  let rows = (countRows.get() as { n: number }).n;
  let lastId = (sequence.get() as { seq: number } | null)?.seq ?? 0;
  let pending: ActivityRecord[] = [];
  let timer: ReturnType<typeof setTimeout> | null = null;
  /** The timer set is the one for a full batch (next turn). */
  let timerSoon = false;
  let failures = 0;
  let lastAgeSweep = -Infinity;
  let closed = false;

  const retain = (): void => {
    const t = now();
    if (Number.isFinite(maxAgeMs) && t - lastAgeSweep >= AGE_SWEEP_MS) {
      lastAgeSweep = t;
      rows -= trimBefore.run(t - maxAgeMs).changes;
    }
    if (rows > maxRecords) {
      // By rank, not by the count kept here: rows deleted behind this process's back (a prune in
      // the sqlite3 shell) leave the count too high, and must not cost the records that should stay.
      const excess = rows - maxRecords;
      const removed = trimBeyond.run(maxRecords).changes;
      rows = removed === excess ? rows - removed : (countRows.get() as { n: number }).n;
    }
  };

  const schedule = (ms: number): void => {
    if (timer !== null || closed) return;
    timerSoon = ms === 0;
    timer = setTimeout(() => {
      timer = null;
      timerSoon = false;
      flush();
    }, ms);
    (timer as { unref?: () => void }).unref?.();
  };

  const flush = (): void => {
    if (timer !== null) {
      clearTimeout(timer);
      timer = null;
      timerSoon = false;
    }
    if (closed) return;
    const batch = pending;
    pending = [];
    if (batch.length > 0) {
      try {
        const { stored, refused, duplicates } = writeBatch(batch);
        rows += stored;
        failures = 0;
        if (refused.length > 0) onError(new Error(`${refused.length} activity record(s) could not be stored (${refused.slice(0, 3).join("; ")})`));
        if (duplicates > 0) onError(new Error(`${duplicates} activity record(s) had an id already stored (is another switchyard writing this file?); kept the stored ones`));
      } catch (err) {
        // Keep the batch for a retry (bounded), and back off so a full disk does not flood the log.
        pending = batch.concat(pending);
        if (pending.length > MAX_PENDING) {
          const dropped = pending.length - MAX_PENDING;
          pending = pending.slice(dropped);
          onError(new Error(`dropped ${dropped} activity record(s) that could not be written`));
        }
        failures++;
        onError(err);
        schedule(Math.min(MAX_RETRY_MS, Math.max(batchMs, 1) * 2 ** failures));
        return;
      }
    }
    try {
      retain();
    } catch (err) {
      onError(err);
    }
  };

  const where = (f: { models: readonly string[]; start: number | null; end: number | null; minId: number | null; maxId: number | null }) => {
    const conds: string[] = [];
    const params: SQLQueryBindings[] = [];
    const models = [...new Set(f.models)];
    if (models.length > 0) {
      // One placeholder per model (the count is the only thing that shapes the SQL).
      conds.push(`model_key IN (${models.map(() => "?").join(", ")})`);
      params.push(...models.map(utf16Key));
    }
    // A timestamp that does not parse passes every time bound, as in the memory store.
    if (f.start !== null) {
      conds.push("(ts_ms IS NULL OR ts_ms >= ?)");
      params.push(f.start);
    }
    if (f.end !== null) {
      conds.push("(ts_ms IS NULL OR ts_ms <= ?)");
      params.push(f.end);
    }
    if (f.minId !== null) {
      conds.push("id >= ?");
      params.push(f.minId);
    }
    if (f.maxId !== null) {
      conds.push("id <= ?");
      params.push(f.maxId);
    }
    return { sql: conds.length > 0 ? ` WHERE ${conds.join(" AND ")}` : "", params };
  };

  /**
   * One speed histogram, as activity-query.ts computes it over the sorted values: min, max,
   * binSize = (max - min) / 20 (1 when all are equal), bin = min(19, floor((v - min) / binSize)),
   * percentile p = the value at rank ceil(p/100 * n) - 1.
   * Over all models it is read through the speed's index: a count, the two ends, three ranks, and
   * one range count per bin between exact edges (binEdges), about n index entries in all. For one
   * model (no index per model), one read of that model's rows takes both speeds, and the same
   * arithmetic runs on them sorted (modelHistograms).
   */
  const histogram = (column: "prompt_per_second" | "tokens_per_second"): HistogramData | null => {
    const n = (stmt(`SELECT COUNT(*) AS n FROM activity WHERE ${column} > 0`).get() as { n: number }).n;
    const atRank = stmt(`SELECT ${column} AS v FROM activity WHERE ${column} > 0 ORDER BY ${column} LIMIT 1 OFFSET ?`);
    const max = n === 0 ? 0 : (stmt(`SELECT MAX(${column}) AS v FROM activity`).get() as { v: number }).v;
    return histogramOf(n, (rank) => (atRank.get(rank) as { v: number }).v, max, (min, binSize) => {
      const binOf = (v: number): number => Math.min(BINS - 1, Math.floor((v - min) / binSize));
      const edges = binEdges(min, binSize, binOf);
      if (edges === null) {
        // Edges not found in a few steps (extreme values): group every value by its bin instead.
        const bins = new Array<number>(BINS).fill(0);
        const grouped = stmt(`SELECT MIN(${BINS - 1}, CAST((${column} - ?) / ? AS INTEGER)) AS b, COUNT(*) AS k FROM activity WHERE ${column} > 0 GROUP BY b`).all(min, binSize) as { b: number; k: number }[];
        for (const g of grouped) bins[g.b] = g.k;
        return bins;
      }
      // One range per bin (both ends on the index), so the entries read add up to n.
      const first = stmt(`SELECT COUNT(*) AS k FROM activity WHERE ${column} > 0 AND ${column} < ?`);
      const middle = stmt(`SELECT COUNT(*) AS k FROM activity WHERE ${column} >= ? AND ${column} < ?`);
      const bins = [(first.get(edges[0]!) as { k: number }).k];
      for (let i = 1; i < edges.length; i++) bins.push((middle.get(edges[i - 1]!, edges[i]!) as { k: number }).k);
      bins.push(n - bins.reduce((a, b) => a + b, 0));
      return bins;
    });
  };

  const modelHistograms = (model: string): Pick<ActivityStats, "prompt_histogram" | "gen_histogram"> => {
    const rows = stmt("SELECT prompt_per_second, tokens_per_second FROM activity WHERE model_key = ? AND (prompt_per_second > 0 OR tokens_per_second > 0)").values(utf16Key(model));
    const of = (i: 0 | 1): HistogramData | null => {
      const sorted = Float64Array.from(rows.map((row) => row[i] as number).filter((v) => v > 0)).sort();
      return histogramOf(sorted.length, (rank) => sorted[rank]!, sorted[sorted.length - 1]!, (min, binSize) => {
        const bins = new Array<number>(BINS).fill(0);
        for (const v of sorted) bins[Math.min(BINS - 1, Math.floor((v - min) / binSize))]!++;
        return bins;
      });
    };
    return { prompt_histogram: of(0), gen_histogram: of(1) };
  };

  // A smaller maxRecords or maxAgeDays than last time applies at once. A write lock another
  // connection holds (a backup, a sqlite3 session) must not stop the start: the next flush tries again.
  try {
    retain();
  } catch (err) {
    lastAgeSweep = -Infinity;
    onError(err);
  }

  return {
    add(record) {
      if (closed) return;
      pending.push(record);
      if (record.id > lastId) lastId = record.id;
      // While writes fail, the retry timer (with back-off) is already set.
      if (failures > 0) return;
      // A full batch is written on the next turn, not inside the caller (a request's end).
      if (pending.length >= batchSize) {
        if (timerSoon) return;
        if (timer !== null) clearTimeout(timer);
        timer = null;
        schedule(0);
      } else schedule(batchMs);
    },

    query(q: ActivityQuery): ActivityPage {
      flush();
      if (!Object.hasOwn(SORT_COLUMNS, q.sort)) throw new ActivityQueryError(`invalid sort column "${q.sort}"`);
      const column = SORT_COLUMNS[q.sort];
      const dir = q.order === "asc" ? "ASC" : "DESC";
      const w = where(q);
      const total = (stmt(`SELECT COUNT(*) AS n FROM activity${w.sql}`).get(...w.params) as { n: number }).n;
      const totalPages = Math.ceil(total / q.limit);
      if (total > 0 && q.page > totalPages) throw new ActivityQueryError(`page ${q.page} is out of range: there ${totalPages === 1 ? "is 1 page" : `are ${totalPages} pages`}`);
      const order = column === "id" ? `id ${dir}` : `${column} ${dir}, id ${dir}`;
      const data = stmt(`${SELECT_RECORD}${w.sql} ORDER BY ${order} LIMIT ? OFFSET ?`)
        .values(...w.params, q.limit, (q.page - 1) * q.limit)
        .map(recordOf);
      return { data, page: q.page, limit: q.limit, total, total_pages: totalPages };
    },

    stats(model?: string): ActivityStats {
      flush();
      // The totals table has one row per model (kept by triggers), so this reads a handful of rows.
      const filter = model ? " WHERE model_key = ?" : "";
      const mp: SQLQueryBindings[] = model ? [utf16Key(model)] : [];
      const t = stmt(
        `SELECT COALESCE(SUM(requests), 0) AS n, COALESCE(SUM(input_tokens), 0) AS input, COALESCE(SUM(output_tokens), 0) AS output, COALESCE(SUM(cache_tokens), 0) AS cache FROM activity_totals${filter}`,
      ).get(...mp) as { n: number; input: number; output: number; cache: number };
      return {
        total_requests: t.n,
        total_input_tokens: t.input,
        total_output_tokens: t.output,
        total_cache_tokens: t.cache,
        ...(model ? modelHistograms(model) : { prompt_histogram: histogram("prompt_per_second"), gen_histogram: histogram("tokens_per_second") }),
      };
    },

    lastId: () => lastId,

    flush,

    close() {
      if (closed) return;
      flush();
      closed = true;
      if (timer !== null) clearTimeout(timer);
      timer = null;
      if (pending.length > 0) onError(new Error(`${pending.length} activity record(s) could not be written before closing`));
      try {
        db.run("PRAGMA optimize");
      } catch {
        // Only a hint to SQLite.
      }
      try {
        // Finalize the prepared statements too, so the connection really closes (and checkpoints the WAL).
        db.close(true);
      } catch (err) {
        onError(err);
      }
      // After the file is closed: the next process finds it checkpointed.
      lock.release();
    },
  };
}
