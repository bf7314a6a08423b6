/**
 * In a real browser, against a backend (a peer) that answers what a real one might: an image "url"
 * that is `javascript:`, speech typed text/html, a chat template that refuses two user messages in
 * a row. None of it may run in switchyard's page, and a failed chat turn must not break the next.
 */
import { describe, expect } from "bun:test";
import type { Browser, Page } from "playwright-core";
import { startBinary, type Running } from "../e2e/harness.ts";
import { openPage, uiTest, type WatchedPage } from "../fixtures/chromium.ts";
import { uiSession } from "../fixtures/ui-session.ts";

/** One chat message as the backend received it. */
interface Message {
  role: string;
  content: string;
}

/** The messages of each chat request the backend received, in order. */
const chats: Message[][] = [];
/** Resolved when the backend holds a chat that never answers (the playground's Stop ends it). */
let hangStarted: () => void = () => {};
const PNG = Uint8Array.from(atob("iVBORw0KGgoAAAANSUhEUgAAAAEAAAABCAQAAAC1HAwCAAAAC0lEQVR42mNkYAAAAAYAAjCB0C8AAAAASUVORK5CYII="), (c) => c.charCodeAt(0));

const sse = (chunks: unknown[]): Response =>
  new Response(chunks.map((c) => `data: ${JSON.stringify(c)}\n\n`).join("") + "data: [DONE]\n\n", { headers: { "content-type": "text/event-stream" } });

const peer = Bun.serve({
  port: 0,
  hostname: "127.0.0.1",
  idleTimeout: 0,
  async fetch(req, self): Promise<Response> {
    const path = new URL(req.url).pathname;
    if (path === "/img.png") return new Response(PNG, { headers: { "content-type": "image/png", "access-control-allow-origin": "*" } });
    if (path === "/v1/images/generations") {
      const { prompt } = (await req.json()) as { prompt: string };
      const data = prompt.includes("mixed") ? [{ url: "javascript:window.__xss=4" }, { url: `http://127.0.0.1:${self.port}/img.png` }, { url: "data:text/html,<script>window.__xss=5</script>" }] : [{ url: "javascript:window.__xss=4" }, { url: "JAVASCRIPT:window.__xss=6" }];
      return Response.json({ data });
    }
    if (path === "/v1/audio/speech") return new Response("<script>window.__xss=7</script>", { headers: { "content-type": "text/html" } });
    if (path === "/v1/chat/completions") {
      const { messages } = (await req.json()) as { messages: Message[] };
      chats.push(messages);
      // As Mistral's and Gemma's chat templates do.
      if (messages.some((m, i) => i > 0 && m.role === "user" && messages[i - 1]!.role === "user")) return Response.json({ error: { message: "Conversation roles must alternate user/assistant/user/assistant/..." } }, { status: 400 });
      const last = messages[messages.length - 1]!.content;
      if (last.includes("fail")) return Response.json({ error: { message: "backend exploded" } }, { status: 500 });
      if (last.includes("hang")) {
        hangStarted();
        return new Response(new ReadableStream({ start() {} }), { headers: { "content-type": "text/event-stream" } });
      }
      return sse([{ choices: [{ delta: { content: `answer ${chats.length}` } }] }, { choices: [{ delta: {}, finish_reason: "stop" }] }]);
    }
    return new Response("not here", { status: 404 });
  },
});

let server: Running;
let browser: Browser;
const tid = (id: string): string => `[data-testid="${id}"]`;

/** The page's problems, less the console lines Chromium writes for the error answers this backend gives on purpose. */
const realProblems = (w: WatchedPage): string[] => w.problems.filter((p) => !/Failed to load resource: the server responded with a status of (400|500)/.test(p));

async function openTab(tab: string): Promise<{ w: WatchedPage; page: Page }> {
  const w = await openPage(browser, `${server.url}/ui/#/playground/${tab}`);
  await w.page.waitForSelector(`${tid("pg-model")} option[value="p/m"]`, { state: "attached" });
  await w.page.selectOption(tid("pg-model"), "p/m");
  return { w, page: w.page };
}

describe("web UI and a backend's untrusted answers", () => {
  uiSession(
    () =>
      startBinary(`models: {}
peers:
  p:
    proxy: http://127.0.0.1:${peer.port}
    models: [m]
`),
    (s, b) => {
      server = s;
      browser = b;
    },
    () => peer.stop(true),
  );

  uiTest("images: a javascript: or data:text/html url is no image (no <img>, no Download link); an http one shows", async () => {
    const { w, page } = await openTab("images");
    await page.fill(tid("pg-prompt"), "a lighthouse");
    await page.click(tid("pg-send"));
    await page.waitForSelector(tid("pg-error"));
    expect(await page.textContent(tid("pg-error"))).toContain("the answer holds no image");
    expect(await page.locator(tid("pg-image")).count()).toBe(0);

    await page.fill(tid("pg-prompt"), "mixed");
    await page.click(tid("pg-send"));
    await page.waitForSelector(tid("pg-image"));
    const srcs = await page.$$eval(tid("pg-image"), (els) => els.map((e) => e.getAttribute("src")));
    const hrefs = await page.$$eval(`${tid("pg-images")} a`, (els) => els.map((e) => e.getAttribute("href")));
    expect(srcs).toEqual([`http://127.0.0.1:${peer.port}/img.png`]);
    expect(hrefs).toEqual(srcs);
    expect(realProblems(w)).toEqual([]);
  }, 60_000);

  uiTest("speech: an answer typed text/html becomes a Download of bytes, never an HTML blob of switchyard's origin", async () => {
    const { w, page } = await openTab("speech");
    await page.fill(tid("pg-prompt"), "hello");
    await page.click(tid("pg-send"));
    await page.waitForSelector(`${tid("pg-speech-tab")} a[download]`);
    const type = await page.$eval(`${tid("pg-speech-tab")} a[download]`, async (a) => (await (await fetch((a as HTMLAnchorElement).href)).blob()).type);
    expect(type).toBe("application/octet-stream");
    expect(realProblems(w).filter((p) => !/audio|media|NotSupported/i.test(p))).toEqual([]);
  }, 60_000);

  uiTest("chat: a failed turn and one stopped before any answer are left out of the next request (no two user messages in a row), and shown so", async () => {
    const { w, page } = await openTab("chat");
    await page.fill(tid("pg-prompt"), "please fail");
    await page.click(tid("pg-send"));
    await page.waitForSelector(tid("pg-error"));
    expect(await page.textContent(tid("pg-error"))).toContain("backend exploded");

    const held = new Promise<void>((resolve) => (hangStarted = resolve));
    await page.fill(tid("pg-prompt"), "now hang");
    await page.click(tid("pg-send"));
    await held;
    await page.click(tid("pg-stop"));
    await page.waitForFunction((sel) => document.querySelector(sel)?.hasAttribute("disabled") === true, tid("pg-stop"));

    await page.fill(tid("pg-prompt"), "hello");
    await page.click(tid("pg-send"));
    await page.waitForFunction((sel) => (document.querySelector(sel)?.textContent ?? "").includes("answer"), tid("pg-answer"));
    await page.waitForFunction((sel) => document.querySelector(sel)?.hasAttribute("disabled") === true, tid("pg-stop"));
    expect(await page.locator(tid("pg-error")).count()).toBe(0);
    expect(chats[chats.length - 1]).toEqual([{ role: "user", content: "hello" }]);
    // The two questions that went unanswered are marked as left out; the answered one is not.
    expect(await page.locator(`.pg-user[data-unsent="true"]`).count()).toBe(2);
    expect(await page.locator(tid("pg-unsent-note")).count()).toBe(2);

    // The answered pair goes along with the next question.
    const answer = (await page.textContent(tid("pg-answer")))!.trim();
    await page.fill(tid("pg-prompt"), "and again");
    await page.click(tid("pg-send"));
    await page.waitForFunction(([sel, before]) => (document.querySelector(sel as string)?.textContent ?? "").trim() !== before && (document.querySelector(sel as string)?.textContent ?? "").includes("answer"), [tid("pg-answer"), answer] as const);
    expect(chats[chats.length - 1]).toEqual([
      { role: "user", content: "hello" },
      { role: "assistant", content: answer },
      { role: "user", content: "and again" },
    ]);
    expect(realProblems(w)).toEqual([]);
  }, 60_000);
});
