/** A placement as a model's process sees it (process/supervisor.ts `placed`): ${GPU} and the *_VISIBLE_DEVICES variables. */
import { describe, expect, test } from "bun:test";
import { loadConfig } from "../../src/config/load.ts";
import { createLogHub } from "../../src/log/log-hub.ts";
import { placed } from "../../src/process/supervisor.ts";
import { resolveOptions } from "../../src/process/supervisor-options.ts";

const options = (env: string[] = []) => {
  const config = loadConfig(["routing:", "  router:", "    use: fit", "models:", "  a:", "    cmd: srv --port ${PORT} --gpu ${GPU}", `    env: ${JSON.stringify(env)}`].join("\n"), { env: {} }).config;
  return resolveOptions({ model: config.models.a!, logs: createLogHub({ level: "info", logToStdout: "none" }), env: { CUDA_VISIBLE_DEVICES: "0,1", PATH: "/bin" } });
};

describe("placed", () => {
  test("GPUs: ${GPU} and each *_VISIBLE_DEVICES name them", () => {
    const o = placed(options(), { devices: ["1"], gpus: [1] });
    expect(o.model.cmd.at(-1)).toBe("1");
    expect([o.env.CUDA_VISIBLE_DEVICES, o.env.HIP_VISIBLE_DEVICES, o.env.ROCR_VISIBLE_DEVICES]).toEqual(["1", "1", "1"]);
  });

  test("the CPU alone on a host with GPUs: every *_VISIBLE_DEVICES is empty, so the model grabs no GPU (not the GPUs switchyard inherited)", () => {
    const o = placed(options(), { devices: ["cpu"], gpus: [], gpusKnown: true });
    expect(o.model.cmd.at(-1)).toBe("");
    expect([o.env.CUDA_VISIBLE_DEVICES, o.env.HIP_VISIBLE_DEVICES, o.env.ROCR_VISIBLE_DEVICES]).toEqual(["", "", ""]);
  });

  test("what the model's env sets itself is left alone", () => {
    const o = placed(options(["CUDA_VISIBLE_DEVICES=3"]), { devices: ["cpu"], gpus: [], gpusKnown: true });
    expect(o.env.CUDA_VISIBLE_DEVICES).toBe("3");
    expect(o.env.HIP_VISIBLE_DEVICES).toBe("");
  });

  test("the CPU with no GPU known (none detected: no nvidia-smi on PATH): the environment is left as it was, GPUs included", () => {
    const o = placed(options(), { devices: ["cpu"], gpus: [], gpusKnown: false });
    expect([o.env.CUDA_VISIBLE_DEVICES, o.env.HIP_VISIBLE_DEVICES, o.env.ROCR_VISIBLE_DEVICES]).toEqual(["0,1", undefined, undefined]);
  });
});
