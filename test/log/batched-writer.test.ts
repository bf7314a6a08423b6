import { expect, test } from "bun:test";
import { createBatchedWriter } from "../../src/log/batched-writer.ts";

test("writes within one turn reach the sink as one write, in order", () => {
  const out: string[] = [];
  const tasks: (() => void)[] = [];
  const w = createBatchedWriter((t) => out.push(t), (fn) => tasks.push(fn));
  w.write("a\n");
  w.write("b\n");
  w.write("c\n");
  expect(out).toEqual([]);
  expect(tasks.length).toBe(1);
  tasks.shift()!();
  expect(out).toEqual(["a\nb\nc\n"]);
  w.write("d\n");
  expect(tasks.length).toBe(1);
  tasks.shift()!();
  expect(out).toEqual(["a\nb\nc\n", "d\n"]);
});

test("flush writes what is pending at once and the scheduled turn then writes nothing", () => {
  const out: string[] = [];
  const tasks: (() => void)[] = [];
  const w = createBatchedWriter((t) => out.push(t), (fn) => tasks.push(fn));
  w.write("x");
  w.flush();
  expect(out).toEqual(["x"]);
  tasks.shift()!();
  expect(out).toEqual(["x"]);
});

test("the default schedule delivers on the next macrotask", async () => {
  const out: string[] = [];
  const w = createBatchedWriter((t) => out.push(t));
  w.write("1");
  w.write("2");
  await new Promise((r) => setTimeout(r, 0));
  await new Promise((r) => setTimeout(r, 0));
  expect(out).toEqual(["12"]);
});
