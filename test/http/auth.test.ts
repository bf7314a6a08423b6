import { afterAll, describe, expect, test } from "bun:test";
import { constantTimeEqual, createAuthCheck, extractApiKey } from "../../src/http/auth.ts";
import { createFakeRouter, makeConfig, modelConfig, startApp } from "./helpers.ts";

describe("extractApiKey", () => {
  test("takes Basic's password first, then Bearer, then x-api-key", () => {
    expect(extractApiKey(new Headers({ authorization: `Basic ${btoa("user:pa:ss")}`, "x-api-key": "other" }))).toBe("pa:ss");
    expect(extractApiKey(new Headers({ authorization: "Bearer tok" }))).toBe("tok");
    expect(extractApiKey(new Headers({ authorization: "bearer  tok2 " }))).toBe("tok2");
    expect(extractApiKey(new Headers({ "x-api-key": "xk" }))).toBe("xk");
    expect(extractApiKey(new Headers({ authorization: "Basic !!notbase64", "x-api-key": "xk" }))).toBe("xk");
    expect(extractApiKey(new Headers())).toBeNull();
  });
});

describe("constantTimeEqual", () => {
  test("is plain equality", () => {
    expect(constantTimeEqual("abc", "abc")).toBe(true);
    expect(constantTimeEqual("abc", "abd")).toBe(false);
    expect(constantTimeEqual("abc", "abcd")).toBe(false);
    expect(constantTimeEqual("", "")).toBe(true);
    expect(constantTimeEqual("é", "e")).toBe(false);
  });
});

describe("createAuthCheck", () => {
  test("lets everything through without keys", () => {
    expect(createAuthCheck([])(new Request("http://x/"))).toBeNull();
  });
  test("refuses a wrong key with 401 and never echoes it", async () => {
    const res = createAuthCheck(["right"])(new Request("http://x/", { headers: { authorization: "Bearer wrong-key-value" } }));
    expect(res?.status).toBe(401);
    expect(await res!.text()).not.toContain("wrong-key-value");
  });
});

describe("auth in the app", () => {
  const locked = startApp({ config: makeConfig([modelConfig("m")], { apiKeys: ["k1", "sekret"] }), router: createFakeRouter({}) });
  afterAll(() => locked.stop());

  test("every route but /health needs a key; 401 carries WWW-Authenticate and the envelope", async () => {
    expect((await fetch(`${locked.url}/health`)).status).toBe(200);
    expect((await fetch(`${locked.url}/wol-health`)).status).toBe(200);
    for (const path of ["/v1/models", "/running", "/logs", "/api/version", "/upstream/m/x"]) {
      const res = await fetch(`${locked.url}${path}`);
      expect(res.status, path).toBe(401);
      expect(res.headers.get("www-authenticate")).toBe('Basic realm="switchyard"');
      expect(((await res.json()) as { error: { type: string } }).error.type).toBe("authentication_error");
    }
    const post = await fetch(`${locked.url}/v1/chat/completions`, { method: "POST", body: "{}" });
    expect(post.status).toBe(401);
  });

  test("a short Host header (3 characters or fewer) neither opens an admin route under /ui/ nor sends a request to the wrong route", async () => {
    const port = Number(new URL(locked.url).port);
    /** One request written by hand (fetch sets its own Host), answered with the status line and body. */
    const raw = async (head: string): Promise<{ status: number; body: string }> => {
      const net = await import("node:net");
      const text = await new Promise<string>((resolve, reject) => {
        let got = "";
        const sock = net.connect(port, "127.0.0.1", () => sock.write(`${head}\r\nConnection: close\r\n\r\n`));
        sock.on("data", (d) => (got += d.toString()));
        sock.on("end", () => resolve(got));
        sock.on("error", reject);
      });
      return { status: Number(text.split(" ")[1]), body: text.slice(text.indexOf("\r\n\r\n") + 4) };
    };
    for (const host of ["x", "abc", "llm:80"]) {
      // Elysia alone would route these as /api/config and /running while the gate saw an open /ui/ path.
      expect([host, (await raw(`GET /ui/api/config HTTP/1.1\r\nHost: ${host}`)).status]).toEqual([host, 404]);
      expect([host, (await raw(`GET /ui/running HTTP/1.1\r\nHost: ${host}`)).status]).toEqual([host, 404]);
      // Without a key: refused; with one: the route asked for.
      expect([host, (await raw(`GET /running HTTP/1.1\r\nHost: ${host}`)).status]).toEqual([host, 401]);
      const ok = await raw(`GET /running HTTP/1.1\r\nHost: ${host}\r\nx-api-key: sekret`);
      expect([host, ok.status, ok.body]).toEqual([host, 200, expect.stringContaining('"running"')]);
      const up = await raw(`GET /upstream/nope/x HTTP/1.1\r\nHost: ${host}\r\nx-api-key: sekret`);
      expect([host, up.status, up.body]).toEqual([host, 404, expect.stringContaining(`"code":"model_not_found"`)]);
    }
    // The access log still names the client, not the request made again.
    expect(locked.logs.proxy.history()).toContain('Request 127.0.0.1 "GET /running HTTP/1.1" 200');
  });

  test("a key with non-ASCII characters works in every form: headers carry its UTF-8 bytes", async () => {
    const app = startApp({ config: makeConfig([modelConfig("m")], { apiKeys: ["pässwort-✓"] }), router: createFakeRouter({}) });
    try {
      // What a client sends for the key: its UTF-8 bytes, which a header holds one per character.
      const bytes = String.fromCharCode(...new TextEncoder().encode("pässwort-✓"));
      const forms: Record<string, string>[] = [{ authorization: `Bearer ${bytes}` }, { "x-api-key": bytes }, { authorization: `Basic ${btoa(`user:${bytes}`)}` }];
      for (const headers of forms) {
        expect([Object.keys(headers)[0], (await fetch(`${app.url}/running`, { headers })).status]).toEqual([Object.keys(headers)[0], 200]);
      }
      // Its Latin-1 look-alike is another key.
      expect((await fetch(`${app.url}/running`, { headers: { "x-api-key": "pässwort-" } })).status).toBe(401);
    } finally {
      app.stop();
    }
  });

  test("a browser (Accept: text/html) gets the 401 as a page, still with WWW-Authenticate", async () => {
    const res = await fetch(`${locked.url}/running`, { headers: { accept: "text/html,application/xhtml+xml,*/*;q=0.8" } });
    expect(res.status).toBe(401);
    expect(res.headers.get("www-authenticate")).toBe('Basic realm="switchyard"');
    expect(res.headers.get("content-type")).toStartWith("text/html");
    expect(await res.text()).toContain("unauthorized: invalid or missing API key");
  });

  test("a page's own fetch (Sec-Fetch-Mode: cors) gets the 401 without the Basic challenge, so the web UI can ask for the key", async () => {
    for (const mode of ["cors", "same-origin"]) {
      const res = await fetch(`${locked.url}/api/events`, { headers: { "sec-fetch-mode": mode } });
      expect(res.status).toBe(401);
      expect(res.headers.get("www-authenticate")).toBeNull();
    }
    const nav = await fetch(`${locked.url}/running`, { headers: { "sec-fetch-mode": "navigate" } });
    expect(nav.headers.get("www-authenticate")).toBe('Basic realm="switchyard"');
  });

  test("the access log names the request but never the key", async () => {
    await fetch(`${locked.url}/api/version?x=1`, { headers: { authorization: "Bearer sekret" } });
    await fetch(`${locked.url}/api/version`, { headers: { authorization: "Bearer not-a-key-123" } });
    const log = locked.logs.proxy.history();
    expect(log).toContain('"GET /api/version HTTP/1.1" 200');
    expect(log).toContain('"GET /api/version HTTP/1.1" 401');
    expect(log).not.toContain("sekret");
    expect(log).not.toContain("not-a-key-123");
  });

  test("accepts Bearer, x-api-key and Basic (password part)", async () => {
    const ok: Record<string, string>[] = [
      { authorization: "Bearer sekret" },
      { "x-api-key": "k1" },
      { authorization: `Basic ${btoa("anyone:sekret")}` },
    ];
    for (const headers of ok) expect((await fetch(`${locked.url}/api/version`, { headers })).status).toBe(200);
    const bad: Record<string, string>[] = [{ authorization: "Bearer sekre" }, { "x-api-key": "k2" }, { authorization: `Basic ${btoa("sekret:nope")}` }];
    for (const headers of bad) expect((await fetch(`${locked.url}/api/version`, { headers })).status).toBe(401);
  });
});
