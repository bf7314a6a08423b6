/**
 * In a real browser: pages follow the server and the address. The model detail and Config pages
 * show a config reload without a page reload; moving from one model's page to another starts the
 * page afresh; a stray `%` in the address is shown, not a blank page.
 */
import { describe, expect } from "bun:test";
import { readFileSync, writeFileSync } from "node:fs";
import { dirname, join } from "node:path";
import type { Browser } from "playwright-core";
import { BINARY, startBinary, type Running } from "../e2e/harness.ts";
import { openPage, uiTest } from "../fixtures/chromium.ts";
import { uiSession } from "../fixtures/ui-session.ts";
import { freePortRange } from "../fixtures/ports.ts";

const ENV = { ...process.env, PATH: `${dirname(BINARY)}:${process.env.PATH ?? ""}` };
const CONFIG = () => `startPort: ${freePortRange(3)}
models:
  calm:
    name: Calm
    cmd: switchyard simulate --port \${PORT} --model calm
  broken:
    cmd: switchyard simulate --port \${PORT} --model broken --exit-at-start 3
`;

let server: Running;
let browser: Browser;
const tid = (id: string): string => `[data-testid="${id}"]`;

describe("web UI pages and their state", () => {
  uiSession(
    () => startBinary(CONFIG(), [], ENV),
    (s, b) => {
      server = s;
      browser = b;
    },
  );

  uiTest("after a config reload the model detail page and the Config page show the new config, without a page reload", async () => {
    const detail = await openPage(browser, `${server.url}/ui/#/models/calm`);
    const config = await openPage(browser, `${server.url}/ui/#/config`);
    await detail.page.waitForFunction((sel) => (document.querySelector(sel)?.textContent ?? "").includes("simulate"), tid("detail-config"));
    await config.page.waitForSelector(tid("config-model-calm"));
    expect(await detail.page.textContent(tid("detail-config"))).not.toContain("calm-alias");

    const file = join(server.dir, "config.yaml");
    writeFileSync(file, readFileSync(file, "utf8").replace("    name: Calm\n", "    name: Calm\n    aliases: [calm-alias]\n"));
    const res = await fetch(`${server.url}/api/config/reload`, { method: "POST" });
    expect(res.status).toBe(200);
    await res.arrayBuffer();

    await detail.page.waitForFunction((sel) => (document.querySelector(sel)?.textContent ?? "").includes("calm-alias"), tid("detail-config"), { timeout: 10_000 });
    await config.page.waitForFunction((sel) => (document.querySelector(sel)?.textContent ?? "").includes("calm-alias"), tid("config-model-calm"), { timeout: 10_000 });
    expect([...detail.problems, ...config.problems]).toEqual([]);
  }, 60_000);

  uiTest("moving from one model's page to another's drops the first one's load error", async () => {
    const { page } = await openPage(browser, `${server.url}/ui/#/models/broken`);
    await page.waitForSelector(tid("load-broken"));
    await page.click(tid("load-broken"));
    await page.waitForSelector(`${tid("model-row-broken")} [role="alert"]`, { timeout: 15_000 });
    expect(await page.textContent(`${tid("model-row-broken")} [role="alert"]`)).toContain("load failed");

    await page.evaluate(() => (location.hash = "#/models/calm"));
    await page.waitForSelector(tid("model-row-calm"));
    expect(await page.locator(`${tid("model-row-calm")} [role="alert"]`).count()).toBe(0);
  }, 60_000);

  uiTest("a stray % in the address shows the page with the text as typed, and no error", async () => {
    const w = await openPage(browser, `${server.url}/ui/#/models/100%`);
    await w.page.waitForFunction(() => (document.querySelector("h1")?.textContent ?? "") === "100%");
    await w.page.waitForSelector(tid("nav-models"));
    await w.page.evaluate(() => (location.hash = "#/models/a%2Fb%zz"));
    await w.page.waitForFunction(() => (document.querySelector("h1")?.textContent ?? "") === "a%2Fb%zz");
    await w.page.evaluate(() => (location.hash = "#/models/calm%20x"));
    await w.page.waitForFunction(() => (document.querySelector("h1")?.textContent ?? "") === "calm x");
    expect(w.problems).toEqual([]);
  }, 60_000);
});
