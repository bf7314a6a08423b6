/** The web UI with `apiKeys`: the page itself opens, then asks for a key, keeps it for the session and uses it. */
import { describe, expect } from "bun:test";
import type { Browser } from "playwright-core";
import { startBinary, type Running } from "../e2e/harness.ts";
import { openPage, uiTest } from "../fixtures/chromium.ts";
import { uiSession } from "../fixtures/ui-session.ts";
import { freePortRange } from "../fixtures/ports.ts";

const KEY = "sk-ui-test-key-1234";
let server: Running;
let browser: Browser;

describe("web UI with apiKeys", () => {
  uiSession(
    () => startBinary(`startPort: ${freePortRange(2)}
apiKeys: ["${KEY}"]
models:
  only:
    cmd: \${SWITCHYARD} simulate --port \${PORT} --model only
`),
    (s, b) => {
      server = s;
      browser = b;
    },
  );

  uiTest("asks for a key; a wrong one asks again; the right one shows the models and lasts the session", async () => {
    const { page, problems } = await openPage(browser, `${server.url}/ui/`);
    await page.waitForSelector('[data-testid="key-prompt"]');
    await page.screenshot({ path: `${import.meta.dir}/../../docs/ui/key-prompt.png` });
    await page.fill('[data-testid="key-input"]', "wrong");
    await page.click('[data-testid="key-submit"]');
    await page.waitForSelector('[data-testid="key-prompt"]');
    await page.fill('[data-testid="key-input"]', KEY);
    await page.click('[data-testid="key-submit"]');
    await page.waitForSelector('[data-testid="model-row-only"]', { timeout: 10_000 });
    expect(await page.locator('[data-testid="key-prompt"]').count()).toBe(0);
    // Kept for this browser session (sessionStorage): a reload does not ask again.
    await page.reload();
    await page.waitForSelector('[data-testid="model-row-only"]');
    expect(await page.locator('[data-testid="key-prompt"]').count()).toBe(0);
    expect(await page.evaluate(() => localStorage.length === 0 || !Object.values(localStorage).includes("sk-ui-test-key-1234"))).toBe(true);
    // The browser's own log of a 401 answer is not the page's error.
    expect(problems.filter((p) => !/401 \(Unauthorized\)/.test(p))).toEqual([]);
  }, 60_000);
});
