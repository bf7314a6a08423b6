/**
 * "Does something already listen on this port?", asked before spawning, so a stray server (an
 * orphan of an earlier run, another program) is never mistaken for the model we start.
 * node:net rather than fetch: only a TCP connect tells "refused" apart from "not HTTP".
 */
import { connect } from "node:net";

const LOCAL_HOSTS = new Set(["localhost", "127.0.0.1", "::1", "[::1]", "0.0.0.0", "::", "[::]"]);

/** Whether a URL host names this machine. */
export function isLocalHost(host: string): boolean {
  const h = host.toLowerCase();
  return LOCAL_HOSTS.has(h) || h.startsWith("127.") || h.endsWith(".localhost");
}

/** The host and port of `baseUrl` when it points at this machine; null for another machine or a bad URL. */
export function localPortOf(baseUrl: string): { host: string; port: number } | null {
  let url: URL;
  try {
    url = new URL(baseUrl);
  } catch {
    return null;
  }
  if (!isLocalHost(url.hostname)) return null;
  const port = url.port ? Number(url.port) : url.protocol === "https:" ? 443 : 80;
  return { host: url.hostname, port };
}

/** The addresses to try for a local host name (a wildcard or `localhost` means both loopbacks). */
function loopbacksFor(host: string): string[] {
  const h = host.replace(/^\[|\]$/g, "").toLowerCase();
  if (h === "::1") return ["::1"];
  if (h.startsWith("127.")) return [h];
  return ["127.0.0.1", "::1"];
}

/** Whether one address accepts a TCP connection within `timeoutMs`. */
function accepts(address: string, port: number, timeoutMs: number): Promise<boolean> {
  return new Promise((resolve) => {
    const socket = connect({ host: address, port });
    const done = (result: boolean) => {
      clearTimeout(timer);
      socket.destroy();
      resolve(result);
    };
    const timer = setTimeout(() => done(false), timeoutMs);
    socket.once("connect", () => done(true));
    socket.once("error", () => done(false));
  });
}

/** Whether `host:port` (a local host) already accepts TCP connections. */
export async function isPortInUse(host: string, port: number, timeoutMs = 500): Promise<boolean> {
  const results = await Promise.all(loopbacksFor(host).map((a) => accepts(a, port, timeoutMs)));
  return results.some(Boolean);
}
