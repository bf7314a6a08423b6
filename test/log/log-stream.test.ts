import { describe, expect, test } from "bun:test";
import { createLogStream } from "../../src/log/log-stream.ts";
import { utf8Length } from "../../src/log/utf8.ts";

/** Let queued microtasks (follower deliveries) run. */
const flush = () => new Promise<void>((r) => setTimeout(r, 0));

describe("createLogStream ring", () => {
  test("keeps everything under the bound, oldest first", () => {
    const s = createLogStream(100);
    s.write("one\n");
    s.write("two\n");
    expect(s.history()).toBe("one\ntwo\n");
  });

  test("keeps exactly the newest maxBytes when it overflows", () => {
    const s = createLogStream(10);
    s.write("0123456789");
    s.write("abc");
    expect(s.history()).toBe("3456789abc");
    s.write("a chunk larger than the ring");
    expect(s.history()).toBe("n the ring");
  });

  test("never splits a multi-byte character when it trims", () => {
    const s = createLogStream(5);
    s.write("€€"); // 6 bytes
    expect(s.history()).toBe("€");
    s.write("🚀"); // 3 + 4 > 5
    expect(s.history()).toBe("🚀");
  });

  test("10,000 lines stay within the bound and end with the last line", () => {
    const max = 64 * 1024;
    const s = createLogStream(max);
    for (let i = 0; i < 10_000; i++) s.write(`line ${i}: some output from a model server é€🚀\n`);
    const h = s.history();
    expect(utf8Length(h)).toBeLessThanOrEqual(max);
    expect(utf8Length(h)).toBeGreaterThan(max - 100);
    expect(h.endsWith("line 9999: some output from a model server é€🚀\n")).toBe(true);
  });
});

describe("createLogStream followers", () => {
  test("a follower receives new text asynchronously, in order, and stops after unsubscribe", async () => {
    const s = createLogStream(1000);
    s.write("before\n");
    const got: string[] = [];
    const off = s.subscribe((t) => {
      got.push(t);
    });
    s.write("a");
    s.write("b");
    expect(got).toEqual([]); // delivery never runs inside write()
    await flush();
    expect(got.join("")).toBe("ab");
    off();
    s.write("c");
    await flush();
    expect(got.join("")).toBe("ab");
  });

  test("a busy follower loses the excess with a marker and then catches up", async () => {
    const s = createLogStream(1 << 20, { followerBytes: 10 });
    const got: string[] = [];
    let release!: () => void;
    s.subscribe((t) => {
      got.push(t);
      if (got.length === 1) return new Promise<void>((r) => (release = r));
    });
    s.write("first");
    await flush();
    expect(got).toEqual(["first"]); // now busy
    s.write("12345");
    s.write("67890"); // fills the 10-byte budget
    s.write("lost-1");
    s.write("lost-2");
    release();
    await flush();
    s.write("after");
    await flush();
    expect(got.slice(1).join("")).toBe("1234567890\n[... 12 bytes dropped ...]\nafter");
    // the ring itself lost nothing
    expect(s.history()).toBe("first1234567890lost-1lost-2after");
  });

  test("a slow follower never blocks the writer or other followers", async () => {
    const s = createLogStream(1 << 20, { followerBytes: 1024 });
    let fast = 0;
    s.subscribe((t) => {
      fast += t.length;
    });
    s.subscribe(() => new Promise<void>(() => {})); // never settles
    const line = "x".repeat(99) + "\n";
    for (let i = 0; i < 1000; i++) {
      s.write(line);
      await null; // lets the queued delivery run, as a real event loop would between chunks
    }
    await flush();
    expect(fast).toBe(100_000);
  });

  test("a throwing follower does not reach the writer", async () => {
    const s = createLogStream(100);
    s.subscribe(() => {
      throw new Error("boom");
    });
    const got: string[] = [];
    s.subscribe((t) => {
      got.push(t);
    });
    expect(() => s.write("x")).not.toThrow();
    await flush();
    expect(got).toEqual(["x"]);
  });
});
