import { describe, expect, test } from "bun:test";
import { createApp } from "../../src/http/app.ts";
import { createFakeRouter, makeConfig, quietLogs } from "./helpers.ts";

const version = { version: "1", commit: "c", date: "d" };
const ui = { js: "console.log('ui')", css: "body{color:red}" };

describe("/ui/", () => {
  const app = createApp({ config: makeConfig([], { apiKeys: ["k-123456"] }), router: createFakeRouter({}), logs: quietLogs(), version, ui });
  const get = (path: string, headers: Record<string, string> = {}) => app.handle(new Request(`http://localhost${path}`, { headers }));

  test("/ redirects to /ui/, /ui to /ui/; the page and its assets need no key", async () => {
    expect((await get("/")).headers.get("location")).toBe("/ui/");
    expect((await get("/ui")).status).toBe(301);
    const page = await get("/ui/");
    expect(page.status).toBe(200);
    expect(await page.text()).toContain('<script type="module" src="/ui/app.js">');
    expect(await (await get("/ui/app.js")).text()).toBe(ui.js);
    expect((await get("/ui/app.css")).headers.get("content-type")).toBe("text/css; charset=utf-8");
    // Client-side routes get the page; an unknown asset is 404.
    expect((await get("/ui/models/x")).status).toBe(200);
    expect((await get("/ui/missing.png")).status).toBe(404);
  });

  test("the API behind it still needs the key", async () => {
    expect((await get("/api/config")).status).toBe(401);
    expect((await get("/api/config", { authorization: "Bearer k-123456" })).status).toBe(200);
  });

  test("without a bundle /ui/ is a 404 in the envelope", async () => {
    const bare = createApp({ config: makeConfig([]), router: createFakeRouter({}), logs: quietLogs(), version });
    const res = await bare.handle(new Request("http://localhost/ui/"));
    expect(res.status).toBe(404);
    expect(((await res.json()) as { error: { message: string } }).error.message).toBe("the web UI is not in this build");
  });
});
