/**
 * A child's stdout and stderr through a named pipe that switchyard reads in batches, instead of
 * Bun's pipes. Bun reads a child's pipe natively the moment data arrives and wakes JavaScript for
 * it, about 90-130 µs of CPU per write; llama-server writes each log line on its own, four or so
 * per request, which made reading its log the largest part of the proxy's CPU per request behind
 * a real backend (BENCHMARKS.md, issue 16's sixth round). Here the child writes into a FIFO
 * whose read end is non-blocking, and a timer drains whatever has gathered: every 50 ms while
 * output flows, backing off to once a second when it does not, and at once again while a drain
 * fills its buffer, so a chatty child is never held back for long by the FIFO's 64 KiB.
 * Bun and Node APIs: an edge of the process layer, used by spawn-group.ts only.
 */
import { closeSync, constants, openSync, readSync, unlinkSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";

/** The two ends of one output FIFO: the child gets `writeFd`, switchyard reads `readFd`. */
export interface OutputFifo {
  readFd: number;
  writeFd: number;
}

/** Drain intervals (ms): while output flows, and the longest back-off when it does not. */
const ACTIVE_MS = 50;
const IDLE_MAX_MS = 1000;
/** Bytes one read takes; a drain that reads this much in one go comes back at once. */
const READ_BYTES = 64 * 1024;

let mkfifo: string | null | undefined;
let seq = 0;

/**
 * A new FIFO, both ends open, its name already unlinked (only the two descriptors remain), or
 * null where FIFOs cannot be made (no `mkfifo` on PATH, a temp directory that refuses it): the
 * caller then uses Bun's pipes.
 */
export function openOutputFifo(): OutputFifo | null {
  // Why a command: neither Bun nor node:fs can make a FIFO; `mkfifo` is POSIX (Linux, macOS).
  mkfifo ??= Bun.which("mkfifo", { PATH: "/usr/bin:/bin:/usr/local/bin" });
  if (!mkfifo) return null;
  const path = join(tmpdir(), `switchyard-${process.pid}-${++seq}-${Math.random().toString(36).slice(2)}.fifo`);
  const made = Bun.spawnSync([mkfifo, "-m", "600", path], { stdin: "ignore", stdout: "ignore", stderr: "ignore" });
  if (made.exitCode !== 0) return null;
  try {
    // The read end first and non-blocking: opening the write end then does not wait for a reader.
    const readFd = openSync(path, constants.O_RDONLY | constants.O_NONBLOCK);
    try {
      return { readFd, writeFd: openSync(path, constants.O_WRONLY) };
    } catch {
      closeSync(readFd);
      return null;
    }
  } catch {
    return null;
  } finally {
    try {
      unlinkSync(path);
    } catch {
      // already gone
    }
  }
}

/** What drains one FIFO. */
export interface FifoReader {
  /** Resolves at EOF: every writer (the child and whatever inherited its output) has closed. */
  done: Promise<void>;
  /** Drain now instead of at the next tick (the leader exited: its last lines are wanted soon). */
  kick(): void;
}

/** Read `fd` until EOF in batches, decoding UTF-8 across reads; never throws; closes `fd` at the end. */
export function readOutputFifo(fd: number, onText: (text: string) => void): FifoReader {
  const buf = new Uint8Array(READ_BYTES);
  const decoder = new TextDecoder();
  let timer: ReturnType<typeof setTimeout> | null = null;
  let wait = ACTIVE_MS;
  let finished = false;
  let resolveDone: () => void = () => {};
  const done = new Promise<void>((resolve) => (resolveDone = resolve));
  // Runs on a timer, where a throw would be uncaught and stop the whole proxy: a listener that
  // throws loses its text, and the reading goes on.
  const deliver = (text: string): void => {
    if (!text) return;
    try {
      onText(text);
    } catch {
      // the listener's failure, not the child's output's
    }
  };

  const finish = (): void => {
    finished = true;
    deliver(decoder.decode());
    try {
      closeSync(fd);
    } catch {
      // already closed
    }
    resolveDone();
  };

  const step = (): void => {
    timer = null;
    if (finished) return;
    let total = 0;
    for (;;) {
      let got: number;
      try {
        got = readSync(fd, buf, 0, READ_BYTES, null);
      } catch (err) {
        const code = (err as { code?: unknown }).code;
        if (code === "EAGAIN" || code === "EWOULDBLOCK") break;
        // Anything else: the FIFO is unreadable, so there is nothing more to read.
        return finish();
      }
      if (got === 0) return finish();
      total += got;
      deliver(decoder.decode(buf.subarray(0, got), { stream: true }));
      // A full read: more may be waiting, and the child may be blocked on a full FIFO.
      if (got === READ_BYTES) {
        timer = setTimeout(step, 0);
        return;
      }
    }
    wait = total > 0 ? ACTIVE_MS : Math.min(IDLE_MAX_MS, wait * 2);
    timer = setTimeout(step, wait);
  };
  // Never on the caller's stack: output is handed over after spawnGroup has returned, as a pipe's is.
  timer = setTimeout(step, ACTIVE_MS);

  return {
    done,
    kick() {
      if (finished) return;
      if (timer !== null) clearTimeout(timer);
      wait = ACTIVE_MS;
      step();
    },
  };
}
