/**
 * Issue 16 experiment (not part of `npm run bench`): what a Bun parent pays per line for reading
 * a child that writes one line every 3 ms. Modes: `ignore` (stdout not piped), `pipe` (each chunk
 * read as it comes), `throttle` (at most one read per 50 ms), `fifo` (the child writes into a FIFO
 * that switchyard's src/process/output-fifo.ts drains in batches). Usage: bun child-pipe.ts <mode> [lines].
 * Run with `child <lines> <ms>` it is the child.
 */
if (process.argv[2] === "child") {
  const n = Number(process.argv[3]);
  const ms = Number(process.argv[4]);
  for (let i = 0; i < n; i++) {
    process.stdout.write(`request: POST /v1/chat/completions ${i}\n`);
    await Bun.sleep(ms);
  }
} else {
  const mode = process.argv[2] ?? "pipe";
  const n = Number(process.argv[3] ?? 1000);
  const c0 = process.cpuUsage();
  let lines = 0;
  if (mode === "fifo") {
    // switchyard's own reader (src/process/output-fifo.ts), as spawn-group.ts uses it.
    const { openOutputFifo, readOutputFifo } = await import("../../../src/process/output-fifo.ts");
    const fifo = openOutputFifo();
    if (!fifo) throw new Error("no FIFO here (mkfifo missing?)");
    const p = Bun.spawn([process.execPath, import.meta.path, "child", String(n), "3"], { stdout: fifo.writeFd, stderr: "ignore" });
    (await import("node:fs")).closeSync(fifo.writeFd);
    const reader = readOutputFifo(fifo.readFd, (text) => (lines += text.split("\n").length - 1));
    await p.exited;
    reader.kick();
    await reader.done;
    const c = process.cpuUsage(c0);
    console.log(`${mode}: ${lines} lines read, parent CPU ${((c.user + c.system) / n).toFixed(1)} µs per line`);
    process.exit(0);
  }
  const p = Bun.spawn([process.execPath, import.meta.path, "child", String(n), "3"], { stdout: mode === "ignore" ? "ignore" : "pipe", stderr: "ignore" });
  if (mode !== "ignore") {
    const reader = (p.stdout as ReadableStream<Uint8Array>).getReader();
    const dec = new TextDecoder();
    for (;;) {
      const { done, value } = await reader.read();
      if (done) break;
      lines += dec.decode(value, { stream: true }).split("\n").length - 1;
      if (mode === "throttle") await Bun.sleep(50);
    }
  }
  await p.exited;
  const c = process.cpuUsage(c0);
  console.log(`${mode}: ${lines} lines read, parent CPU ${((c.user + c.system) / n).toFixed(1)} µs per line`);
}
export {};
