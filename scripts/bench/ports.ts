/** Free TCP ports on 127.0.0.1. */

function bindable(port: number): boolean {
  try {
    const s = Bun.serve({ port, hostname: "127.0.0.1", fetch: () => new Response("") });
    s.stop(true);
    return true;
  } catch {
    return false;
  }
}

/** `count` consecutive free ports (switchyard hands out ${PORT} from startPort upwards). */
export function freePorts(count: number): number {
  for (let attempt = 0; attempt < 200; attempt++) {
    // Below Linux's ephemeral range (32768+), where an earlier outgoing connection's TIME_WAIT
    // can make a backend's bind fail although nothing listens.
    const base = 10_000 + Math.floor(Math.random() * 20_000);
    let ok = true;
    for (let p = base; p < base + count && ok; p++) ok = bindable(p);
    if (ok) return base;
  }
  throw new Error(`no ${count} consecutive free ports found`);
}

/** One free port. */
export function freePort(): number {
  return freePorts(1);
}
