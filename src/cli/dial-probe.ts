/**
 * The DialProbe behind `timeouts.connect` (http/proxy.ts): one TCP connection attempt with
 * Bun.connect, closed as soon as it opens. Bun's fetch has no connect timeout and does not say
 * whether a slow request is still connecting, so the proxy asks this when a request has had no
 * answer for the connect time.
 */
import type { DialProbe } from "../http/proxy.ts";

/** Create the probe. */
export function createDialProbe(): DialProbe {
  return (host, port, timeoutMs) =>
    new Promise((resolve) => {
      let done = false;
      const finish = (r: "connected" | "failed" | "timeout"): void => {
        if (done) return;
        done = true;
        clearTimeout(timer);
        resolve(r);
      };
      const timer = setTimeout(() => finish("timeout"), timeoutMs);
      Bun.connect({
        hostname: host,
        port,
        socket: {
          open(socket) {
            finish("connected");
            socket.end();
          },
          data() {},
          connectError() {
            finish("failed");
          },
          error() {},
        },
      }).then(
        // An attempt that outlived its timeout may still open later; it is closed at once (open above).
        () => {},
        () => finish("failed"),
      );
    });
}
