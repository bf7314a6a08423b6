/** In a real browser: a backend's own 401 (a peer or llama-server with its own --api-key) is that chat's error, not switchyard's key prompt. */
import { describe, expect } from "bun:test";
import type { Browser } from "playwright-core";
import { startBinary, type Running } from "../e2e/harness.ts";
import { openPage, uiTest } from "../fixtures/chromium.ts";
import { uiSession } from "../fixtures/ui-session.ts";

let server: Running;
let browser: Browser;
// A peer that wants a key of its own and gets none.
const peer = Bun.serve({
  port: 0,
  hostname: "127.0.0.1",
  fetch: () => Response.json({ error: { message: "Invalid API Key", type: "authentication_error", code: 401 } }, { status: 401 }),
});

describe("web UI and a backend's own 401", () => {
  uiSession(
    () => startBinary(`models: {}
peers:
  locked:
    proxy: http://127.0.0.1:${peer.port}
    models: [m]
`),
    (s, b) => {
      server = s;
      browser = b;
    }, () => peer.stop(true),
  );

  uiTest("the playground shows the backend's 401 as the chat's error; no key prompt opens (switchyard has no apiKeys)", async () => {
    const { page } = await openPage(browser, `${server.url}/ui/#/playground`);
    const tid = (id: string) => `[data-testid="${id}"]`;
    await page.waitForSelector(tid("pg-model"));
    await page.selectOption(tid("pg-model"), "locked/m");
    await page.fill(tid("pg-prompt"), "hello");
    await page.click(tid("pg-send"));
    await page.waitForSelector(tid("pg-error"), { timeout: 10_000 });
    expect(await page.textContent(tid("pg-error"))).toContain("Invalid API Key");
    expect(await page.locator(tid("key-prompt")).count()).toBe(0);
  }, 60_000);
});
