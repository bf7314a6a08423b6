/**
 * The connect check's probe on real sockets: a listening port, a closed one, a name that does not
 * resolve. (A timeout needs an address that swallows connection attempts, which a test machine may
 * not have; test/http/proxy-timeouts.test.ts drives that outcome with a stand-in probe.)
 */
import { describe, expect, test } from "bun:test";
import { createDialProbe } from "../../src/cli/dial-probe.ts";
import { waitFor } from "../fixtures/wait.ts";

describe("createDialProbe", () => {
  const dial = createDialProbe();

  test("a listening port is connected, and the probe's connection is closed again", async () => {
    let closed = false;
    const listener = Bun.listen({ hostname: "127.0.0.1", port: 0, socket: { data() {}, open() {}, close: () => void (closed = true) } });
    try {
      expect(await dial("127.0.0.1", listener.port, 1000)).toBe("connected");
      await waitFor(() => closed, 2000, "the probe to close its connection");
    } finally {
      listener.stop(true);
    }
  });

  test("a port nobody listens on fails at once", async () => {
    const listener = Bun.listen({ hostname: "127.0.0.1", port: 0, socket: { data() {} } });
    const port = listener.port;
    listener.stop(true);
    expect(await dial("127.0.0.1", port, 1000)).toBe("failed");
  });

  test("a name that does not resolve fails", async () => {
    expect(await dial("no-such-host.invalid", 80, 2000)).toBe("failed");
  });
});
