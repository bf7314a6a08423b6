/**
 * Scenario 8, the web UI's budgets. Size: dist/switchyard against the same build with an empty UI
 * (`scripts/build.ts --no-ui`), so the difference is what the UI adds to the binary, and the
 * bundle's own script and stylesheet sizes. Time to interactive: headless Chromium (Debian's
 * package, driven by playwright-core) opens `/ui/` in a fresh context (cold cache) over
 * localhost, and the time from navigation start to the Models table showing the server's models
 * (the app mounted and its first live data arrived) is read from the page's own clock.
 */
import { mkdtempSync, rmSync, statSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { buildUiBundle } from "../../../src/cli/ui-bundle.ts";
import { chromiumPath } from "../../../test/fixtures/chromium.ts";
import { BINARY, ROOT } from "../binary.ts";
import { freePorts } from "../ports.ts";
import type { BenchContext, ScenarioResult, TargetCheck } from "../scenario.ts";
import { roundSummary, summarize } from "../stats.ts";
import { startSwitchyard } from "../switchyard.ts";
import { ms, num, type Table } from "../table.ts";

// Decimal megabytes, as the budget is stated.
const MB = 1_000_000;

/** Size of a build with an empty UI, bytes. */
async function sizeWithoutUi(): Promise<number> {
  const dir = mkdtempSync(join(tmpdir(), "switchyard-bench-noui-"));
  try {
    const out = join(dir, "switchyard-no-ui");
    const proc = Bun.spawn([process.execPath, "scripts/build.ts", "--no-ui", "--outfile", out], { cwd: ROOT, stdout: "pipe", stderr: "pipe" });
    const [code, err] = await Promise.all([proc.exited, new Response(proc.stderr).text()]);
    if (code !== 0) throw new Error(`build --no-ui failed (${code}): ${err}`);
    return statSync(out).size;
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}

/** Milliseconds from navigation start to the Models table, `runs` times, each in a fresh context. */
async function timeToInteractive(url: string, runs: number, executablePath: string): Promise<number[]> {
  const { chromium } = await import("playwright-core");
  const browser = await chromium.launch({ executablePath, headless: true, args: ["--no-sandbox", "--disable-dev-shm-usage"] });
  const out: number[] = [];
  try {
    for (let i = 0; i < runs; i++) {
      const context = await browser.newContext({ viewport: { width: 1280, height: 860 } });
      const page = await context.newPage();
      // The page's own clock, read by a MutationObserver the moment the first model row exists
      // (reading it after waitForSelector would add the driver's round trip).
      await page.addInitScript(() => {
        const w = window as unknown as { __interactiveAt?: number };
        new MutationObserver((_, obs) => {
          if (document.querySelector('[data-testid^="model-row-"]')) {
            w.__interactiveAt = performance.now();
            obs.disconnect();
          }
        }).observe(document, { childList: true, subtree: true });
      });
      await page.goto(`${url}/ui/`, { waitUntil: "commit" });
      await page.waitForSelector('[data-testid^="model-row-"]', { timeout: 10_000 });
      out.push(await page.evaluate(() => (window as unknown as { __interactiveAt: number }).__interactiveAt));
      await context.close();
    }
  } finally {
    await browser.close();
  }
  return out;
}

/** Run scenario 8. */
export async function uiScenario(ctx: BenchContext): Promise<ScenarioResult> {
  const targets: TargetCheck[] = [];
  ctx.progress("ui: building without the UI for the size difference");
  const full = statSync(BINARY).size;
  const bare = await sizeWithoutUi();
  const bundle = await buildUiBundle();
  const added = full - bare;
  const rows: string[][] = [
    ["dist/switchyard (MB)", (full / MB).toFixed(2)],
    ["the same build, empty UI (MB)", (bare / MB).toFixed(2)],
    ["added by the UI (MB)", (added / MB).toFixed(3)],
    ["bundle: script / stylesheet (KB)", `${num(bundle.js.length / 1024)} / ${num(bundle.css.length / 1024)}`],
  ];
  targets.push({ scenario: "ui", target: "the UI adds <= 1.5 MB to the binary", measured: `${(added / MB).toFixed(3)} MB`, met: added <= 1.5 * MB });

  const notes: string[] = [];
  const figures: Record<string, unknown> = { binaryBytes: full, binaryWithoutUiBytes: bare, addedBytes: added, scriptBytes: bundle.js.length, styleBytes: bundle.css.length };
  const chromium = chromiumPath();
  if (!chromium) {
    notes.push("time to interactive not measured: Chromium missing (apt-get install -y chromium)");
    targets.push({ scenario: "ui", target: "/ui/ interactive <= 500 ms on localhost", measured: "not measured (no Chromium)", met: false });
  } else {
    const sy = await startSwitchyard(`startPort: ${freePorts(4)}
models:
${["chat-a", "chat-b", "coder", "embed"].map((m) => `  ${m}:\n    cmd: \${SWITCHYARD} simulate --port \${PORT} --model ${m}`).join("\n")}
`);
    try {
      const runs = ctx.quick ? 3 : 10;
      ctx.progress(`ui: ${runs} cold loads of /ui/ in Chromium`);
      const t = summarize(await timeToInteractive(sy.url, runs, chromium));
      rows.push([`/ui/ to the Models table, p50 of ${t.n} cold loads (ms)`, ms(t.p50)], [`/ui/ to the Models table, max of ${t.n} (ms)`, ms(t.max)]);
      figures.interactiveMs = roundSummary(t);
      targets.push({ scenario: "ui", target: "/ui/ interactive <= 500 ms on localhost", measured: `p50 ${ms(t.p50)} ms, max ${ms(t.max)} ms`, met: t.p50 <= 500 });
    } finally {
      await sy.stop();
    }
  }
  notes.push("interactive = navigation start to the Models table listing the server's models (app mounted, first /api/events data shown), each load in a fresh browser context");
  const table: Table = { title: "8. Web UI: size and time to interactive", columns: ["measure", "value"], rows, notes };
  return { name: "ui", tables: [table], figures, targets };
}
