/** The web UI with the fit router: the Models page shows each device's memory and the resident models' figures. */
import { describe, expect } from "bun:test";
import type { Browser } from "playwright-core";
import { startBinary, type Running } from "../e2e/harness.ts";
import { openPage, uiTest } from "../fixtures/chromium.ts";
import { uiSession } from "../fixtures/ui-session.ts";
import { freePortRange } from "../fixtures/ports.ts";

let server: Running;
let browser: Browser;

describe("web UI with routing.router.use: fit", () => {
  uiSession(
    () => startBinary(`startPort: ${freePortRange(2)}
routing:
  router:
    use: fit
    settings:
      fit:
        devices: [{ id: cpu, memory: 16GiB, reserve: 1GiB }]
        stateFile: ""
models:
  small:
    cmd: \${SWITCHYARD} simulate --port \${PORT} --model small
    memory: 6GiB
  other:
    cmd: \${SWITCHYARD} simulate --port \${PORT} --model other
    memory: 4GiB
`),
    (s, b) => {
      server = s;
      browser = b;
    },
  );

  uiTest("the Memory panel shows the device's budget and the resident models", async () => {
    expect((await fetch(`${server.url}/api/models/load/small`, { method: "POST" })).status).toBe(200);
    const { page, problems } = await openPage(browser, `${server.url}/ui/#/models`);
    const device = page.locator('[data-testid="device-cpu"]');
    await device.waitFor();
    await page.waitForFunction(() => document.querySelector('[data-testid="device-cpu"]')?.textContent?.includes("small 6.0 GB (declared)"));
    const text = await device.textContent();
    expect(text).toContain("6.0 GB used by models, 9.0 GB free of 16.0 GB, 1.0 GB reserved");
    await page.locator('[data-testid="memory-panel"]').screenshot({ path: `${import.meta.dir}/../../docs/ui/models-memory.png` });
    expect(problems).toEqual([]);
  }, 60_000);
});
