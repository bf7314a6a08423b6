/**
 * The web UI in a real browser: headless Chromium (Debian's package, through playwright-core)
 * against dist/switchyard with simulated models. One server for the whole file; the tests run in
 * order, as a user would: load a model, chat to a cold one while another streams, watch the queue,
 * read activity, logs, performance and config, unload. Every page is screenshotted into docs/ui/
 * (the README shows them), and no page may log a console error.
 */
import { describe, expect } from "bun:test";
import { mkdirSync } from "node:fs";
import { dirname, join } from "node:path";
import type { Browser, Page } from "playwright-core";
import { BINARY, startBinary, type Running } from "../e2e/harness.ts";
import { openPage, uiTest, type WatchedPage } from "../fixtures/chromium.ts";
import { uiSession } from "../fixtures/ui-session.ts";
import { freePortRange } from "../fixtures/ports.ts";

const SHOTS = join(import.meta.dir, "../../docs/ui");
// `switchyard` from PATH rather than ${SWITCHYARD} (the binary's absolute path): the screenshots
// show the commands, and must not show this machine's paths.
const sim = (model: string, flags: string) => `switchyard simulate --port \${PORT} --model ${model} ${flags}`;
const ENV = { ...process.env, PATH: `${dirname(BINARY)}:${process.env.PATH ?? ""}` };

const CONFIG = () => `startPort: ${freePortRange(4)}
sendLoadingState: true
captureBuffer: 5
performance:
  every: 5s
models:
  fast:
    name: Fast chat
    description: Loads in 0.3 s, 40 tokens/s.
    cmd: ${sim("fast", "--load-ms 300 --tps 40 --tokens 120")}
    aliases: [quick]
  slow:
    name: Slow to load
    description: Loads in 2.5 s, then streams 80 tokens at 10 tokens/s.
    cmd: ${sim("slow", "--load-ms 2500 --tps 10 --tokens 80")}
  embed:
    cmd: ${sim("embed", "--tps 0")}
    unlisted: true
profiles:
  demo:
    description: chat means fast
    pins:
      chat: fast
`;

let server: Running;
let browser: Browser;
const pages: WatchedPage[] = [];

/** Open a page of the UI (a fresh context), remembered so its problems are checked. */
async function open(hash = "", opts: Parameters<typeof openPage>[2] = {}): Promise<Page> {
  const w = await openPage(browser, `${server.url}/ui/${hash}`, opts);
  pages.push(w);
  return w.page;
}

/** Save a screenshot to docs/ui/<name>.png. */
async function shot(page: Page, name: string): Promise<void> {
  mkdirSync(SHOTS, { recursive: true });
  await page.screenshot({ path: join(SHOTS, `${name}.png`) });
}

/** Every console error and uncaught exception of every page opened so far. */
const problems = (): string[] => pages.flatMap((p) => p.problems);

const tid = (id: string): string => `[data-testid="${id}"]`;

describe("web UI in Chromium", () => {
  uiSession(
    () => startBinary(CONFIG(), [], ENV),
    (s, b) => {
      server = s;
      browser = b;
    },
  );

  uiTest("/ redirects to /ui/; the Models page lists the models; Load turns one ready", async () => {
    const page = await open();
    await page.goto(`${server.url}/`);
    expect(new URL(page.url()).pathname).toBe("/ui/");
    await page.waitForSelector(tid("model-row-fast"));
    expect(await page.getAttribute(tid("model-row-fast"), "data-state")).toBe("stopped");
    await page.click(tid("load-fast"));
    await page.waitForSelector(`${tid("model-row-fast")}[data-state="ready"]`, { timeout: 15_000 });
    await shot(page, "models");
    expect(problems()).toEqual([]);
  }, 60_000);

  uiTest("playground: a chat to a cold model shows its queue position and progress apart from the answer; a second chat to another model waits with its position", async () => {
    // A long stream on `fast` (its 120 tokens at 40/s) holds the one-at-a-time group, so `slow` must queue behind it.
    const hold = fetch(`${server.url}/v1/chat/completions`, { method: "POST", headers: { "content-type": "application/json" }, body: JSON.stringify({ model: "fast", stream: true, messages: [{ role: "user", content: "hold" }] }) });
    const held = await hold;
    const reader = held.body!.getReader();
    await reader.read();

    const first = await open("#/playground");
    await first.waitForSelector(tid("pg-model"));
    await first.selectOption(tid("pg-model"), "slow");
    await first.fill(tid("pg-prompt"), "Hello, slow model");
    await first.click(tid("pg-send"));
    await first.waitForSelector(tid("pg-loading"));
    await first.waitForFunction((sel) => /#\s*1\b/.test(document.querySelector(sel)?.textContent ?? ""), tid("pg-queue-position"), { timeout: 10_000 });
    await shot(first, "playground-queued");
    // Let the held stream finish: the swap to `slow` can happen, and its load shows progress.
    for (let r = await reader.read(); !r.done; r = await reader.read());
    await first.waitForSelector(tid("pg-progress"), { timeout: 10_000 });
    await first.waitForFunction((sel) => (document.querySelector(sel)?.textContent ?? "").trim().length > 10, tid("pg-answer"), { timeout: 20_000 });
    await shot(first, "playground");

    // While `slow` streams, a second chat to `fast` waits for it with its position.
    const second = await open("#/playground");
    await second.waitForSelector(tid("pg-model"));
    await second.selectOption(tid("pg-model"), "fast");
    await second.fill(tid("pg-prompt"), "And you, fast one?");
    await second.click(tid("pg-send"));
    await second.waitForFunction((sel) => /#\s*1\b/.test(document.querySelector(sel)?.textContent ?? ""), tid("pg-queue-position"), { timeout: 10_000 });
    await shot(second, "playground-second-queued");

    // Both answers arrive, with none of switchyard's loading text in them.
    for (const p of [first, second]) {
      // The answer is complete when Stop has nothing left to stop.
      await p.waitForFunction((sel) => document.querySelector(sel)?.hasAttribute("disabled") === true, tid("pg-stop"), { timeout: 30_000 });
      const answer = (await p.textContent(tid("pg-answer"))) ?? "";
      expect(answer.length).toBeGreaterThan(10);
      expect(answer).not.toMatch(/loading model|Queue position|ready after|-----/i);
      expect(await p.locator(tid("pg-error")).count()).toBe(0);
    }
    expect(problems()).toEqual([]);
  }, 90_000);

  uiTest("activity: rows with their token counts, the charts draw, and a capture opens", async () => {
    const page = await open("#/activity");
    await page.waitForSelector(`${tid("activity-table")} [data-testid^="activity-row-"]`, { timeout: 10_000 });
    const tokens = await page.$$eval('[data-testid^="activity-row-"]', (rows) =>
      rows.map((r) => ({ in: Number((r.querySelector('[data-testid="tokens-in"]')?.textContent ?? "").replace(/\D/g, "")), out: Number((r.querySelector('[data-testid="tokens-out"]')?.textContent ?? "").replace(/\D/g, "")) })),
    );
    expect(tokens.length).toBeGreaterThanOrEqual(3);
    expect(tokens.some((t) => t.in > 0 && t.out > 0)).toBe(true);
    for (const chart of ["chart-tps", "chart-ttft", "chart-wait"]) {
      // A uPlot chart that drew has a canvas with some non-transparent pixels.
      await page.waitForFunction((sel) => {
        const c = document.querySelector(`${sel} canvas`) as HTMLCanvasElement | null;
        if (!c || c.width === 0) return false;
        const d = c.getContext("2d")!.getImageData(0, 0, c.width, c.height).data;
        for (let i = 3; i < d.length; i += 4) if (d[i] !== 0) return true;
        return false;
      }, tid(chart));
    }
    await page.waitForSelector(tid("activity-stats"));
    await shot(page, "activity");
    const capture = page.locator('[data-testid^="capture-"]').first();
    await capture.click();
    await page.waitForSelector(tid("capture-dialog"));
    // The dialog opens at once and fills in when /api/captures/<id> answers.
    await page.waitForFunction((sel) => (document.querySelector(sel)?.textContent ?? "").includes('"messages"'), tid("capture-dialog"));
    expect(await page.textContent(tid("capture-dialog"))).toContain("/v1/chat/completions");
    await shot(page, "activity-capture");
    await page.keyboard.press("Escape");
    await page.waitForSelector(tid("capture-dialog"), { state: "detached" });
    expect(problems()).toEqual([]);
  }, 60_000);

  uiTest("logs stream live, filter by model, and pause", async () => {
    const page = await open("#/logs");
    await page.waitForFunction((sel) => (document.querySelector(sel)?.textContent ?? "").includes("[slow]"), tid("logs-upstream"));
    const count = (): Promise<number> => page.$eval(tid("logs-upstream"), (el) => (el.textContent ?? "").split("request: POST").length);
    const before = await count();
    const res = await fetch(`${server.url}/v1/chat/completions`, { method: "POST", headers: { "content-type": "application/json" }, body: JSON.stringify({ model: "slow", max_tokens: 2, messages: [{ role: "user", content: "log me" }] }) });
    await res.arrayBuffer();
    await page.waitForFunction(([sel, n]) => (document.querySelector(sel as string)?.textContent ?? "").split("request: POST").length > (n as number), [tid("logs-upstream"), before] as const);
    await page.selectOption(tid("logs-filter-model"), "fast");
    await page.waitForFunction((sel) => !(document.querySelector(sel)?.textContent ?? "").includes("[slow]"), tid("logs-upstream"));
    await page.selectOption(tid("logs-filter-model"), "");
    await page.click(tid("logs-pause"));
    await page.waitForSelector(tid("logs-paused"));
    await page.click(tid("logs-pause"));
    await shot(page, "logs");
    expect(problems()).toEqual([]);
  }, 60_000);

  uiTest("model detail, performance and config pages render their parts", async () => {
    const detail = await open("#/models/fast");
    // The card shows "Loading…" until /api/config answers: wait for the resolved config itself.
    await detail.waitForFunction((sel) => (document.querySelector(sel)?.textContent ?? "").includes("simulate"), tid("detail-config"), { timeout: 10_000 });
    expect(await detail.textContent(tid("detail-config"))).toContain("simulate");
    await shot(detail, "model-detail");

    const perf = await open("#/performance");
    await perf.waitForSelector(tid("hardware-card"));
    await perf.waitForSelector(`${tid("perf-cpu")} canvas`, { timeout: 15_000 });
    await perf.waitForSelector(tid("perf-gpu"));
    await shot(perf, "performance");

    const config = await open("#/config");
    await config.waitForSelector(tid("config-warnings"));
    await config.waitForSelector(tid("config-model-slow"));
    await shot(config, "config");
    expect(problems()).toEqual([]);
  }, 60_000);

  uiTest("dark theme and phone width; the theme switch and keyboard navigation work", async () => {
    const dark = await open("#/models", { colorScheme: "dark" });
    await dark.waitForSelector(tid("model-row-fast"));
    const bg = await dark.evaluate(() => getComputedStyle(document.body).backgroundColor);
    expect(bg).not.toBe("rgb(247, 247, 249)");
    await shot(dark, "models-dark");
    await dark.click(tid("theme-toggle"));
    expect(await dark.evaluate(() => document.documentElement.dataset.theme)).toBe("light");

    const phone = await open("#/playground", { width: 390, height: 844 });
    await phone.waitForSelector(tid("pg-prompt"));
    // Nothing wider than the screen: no sideways scrolling of the page itself.
    expect(await phone.evaluate(() => document.documentElement.scrollWidth)).toBeLessThanOrEqual(390);
    await shot(phone, "playground-phone");
    const models = await open("#/models", { width: 390, height: 844 });
    await models.waitForSelector('[data-testid^="model-row-fast"], [data-testid="model-state-fast"]');
    expect(await models.evaluate(() => document.documentElement.scrollWidth)).toBeLessThanOrEqual(390);
    await shot(models, "models-phone");

    // The navigation is reachable from the keyboard: Tab reaches a nav link, Enter follows it.
    const kb = await open("#/models");
    await kb.waitForSelector(tid("nav-logs"));
    for (let i = 0; i < 10 && (await kb.evaluate(() => document.activeElement?.getAttribute("data-testid"))) !== "nav-logs"; i++) await kb.keyboard.press("Tab");
    expect(await kb.evaluate(() => document.activeElement?.getAttribute("data-testid"))).toBe("nav-logs");
    await kb.keyboard.press("Enter");
    await kb.waitForSelector(tid("page-logs"));
    expect(problems()).toEqual([]);
  }, 60_000);

  uiTest("playground media tabs: an image, speech, a transcript and a ranking come back from the simulator", async () => {
    const page = await open("#/playground/images");
    await page.waitForSelector(tid("pg-images-tab"));
    await page.selectOption(tid("pg-model"), "fast");
    await page.fill(tid("pg-prompt"), "a lighthouse");
    await page.click(tid("pg-send"));
    await page.waitForSelector(tid("pg-image"));

    await page.click(tid("pg-tab-speech"));
    await page.waitForSelector(tid("pg-speech-tab"));
    await page.fill(tid("pg-prompt"), "hello there");
    await page.click(tid("pg-send"));
    await page.waitForSelector(tid("pg-audio"));

    await page.click(tid("pg-tab-transcription"));
    await page.waitForSelector(tid("pg-transcription-tab"));
    await page.setInputFiles(tid("pg-file"), { name: "clip.wav", mimeType: "audio/wav", buffer: Buffer.alloc(2048) });
    await page.click(tid("pg-send"));
    await page.waitForFunction((sel) => (document.querySelector(sel)?.textContent ?? "").includes("clip.wav"), tid("pg-transcript"));

    await page.click(tid("pg-tab-rerank"));
    await page.waitForSelector(tid("pg-rerank-tab"));
    await page.fill(tid("pg-query"), "llamas");
    await page.fill(tid("pg-documents"), "llamas live in the Andes\nthe sea is wide\nalpacas and llamas");
    await page.click(tid("pg-send"));
    await page.waitForFunction((sel) => document.querySelectorAll(sel).length === 3, tid("pg-rerank-row"));
    expect(await page.locator(tid("pg-error")).count()).toBe(0);
    await shot(page, "playground-rerank");
    expect(problems()).toEqual([]);
  }, 60_000);

  uiTest("the profile picker switches the active profile, and another open page follows it live", async () => {
    const page = await open("#/models");
    const other = await open("#/models");
    await page.waitForSelector(tid("profile-select"));
    expect(await page.$eval(tid("profile-select"), (el) => (el as HTMLSelectElement).value)).toBe("");
    await page.selectOption(tid("profile-select"), "demo");
    await other.waitForFunction((sel) => (document.querySelector(sel) as HTMLSelectElement | null)?.value === "demo", tid("profile-select"));
    const listed = (await (await fetch(`${server.url}/api/profiles`)).json()) as { active: string | null };
    expect(listed.active).toBe("demo");
    await page.selectOption(tid("profile-select"), "");
    await other.waitForFunction((sel) => (document.querySelector(sel) as HTMLSelectElement | null)?.value === "", tid("profile-select"));
    expect(problems()).toEqual([]);
  }, 60_000);

  uiTest("Unload stops a model", async () => {
    const page = await open("#/models");
    const ready = await page.waitForSelector('[data-testid^="model-row-"][data-state="ready"]');
    const id = (await ready.getAttribute("data-testid"))!.replace("model-row-", "");
    await page.click(tid(`unload-${id}`));
    await page.waitForSelector(`${tid(`model-row-${id}`)}[data-state="stopped"]`, { timeout: 15_000 });
    expect(problems()).toEqual([]);
  }, 60_000);
});
