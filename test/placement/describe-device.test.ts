/** A device in one line. */
import { expect, test } from "bun:test";
import { describeDevice, formatGiB } from "../../src/placement/describe-device.ts";

test("index, name, total and used in GiB, the source; the reserve when set", () => {
  const gib = 1024 ** 3;
  const d = { id: "0", kind: "gpu" as const, index: 0, uuid: null, name: "NVIDIA H200", vendor: "nvidia" as const, total: 139.8 * gib, usedAtStart: 0.5 * gib, reserve: 0, source: "nvidia-smi" as const };
  expect(describeDevice(d)).toBe("device 0: NVIDIA H200, 139.8 GiB total, 0.5 GiB used (nvidia-smi)");
  expect(describeDevice({ ...d, reserve: gib })).toBe("device 0: NVIDIA H200, 139.8 GiB total, 0.5 GiB used, 1.0 GiB reserved (nvidia-smi)");
  expect(formatGiB(0)).toBe("0.0 GiB");
});
