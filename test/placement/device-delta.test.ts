/** A load measured from outside: used after minus used before, per device. */
import { expect, test } from "bun:test";
import { deviceDelta } from "../../src/placement/device-delta.ts";
import type { Device } from "../../src/placement/types.ts";

const dev = (id: string, used: number): Device => ({ id, kind: id === "cpu" ? "cpu" : "gpu", index: id === "cpu" ? null : Number(id), uuid: null, name: id, vendor: null, total: 100, usedAtStart: used, reserve: 0, source: "nvidia-smi" });

test("grown devices only; a device missing from either reading is left out", () => {
  const before = [dev("0", 10), dev("1", 50), dev("cpu", 30)];
  const after = [dev("0", 40), dev("1", 45), dev("cpu", 30), dev("2", 99)];
  expect(deviceDelta("m", before, after, 123)).toEqual({ model: "m", perDevice: { "0": 30 }, method: "device-delta", at: 123 });
});
