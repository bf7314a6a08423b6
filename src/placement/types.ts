/**
 * What placement by memory is made of: devices (GPUs and the system RAM) with their budgets, and
 * what each model needs on them. Web-standard data only; detection and measurement live at the
 * edge (placement/*-smi parsers fed by cli/), the decision is the pure fit swapper.
 */

/** A size in bytes. */
export type Bytes = number;

/** Where a device's figures came from. */
export type DeviceSource = "nvidia-smi" | "rocm-smi" | "meminfo" | "declared";

/** A memory device: one GPU, or the system RAM (id "cpu"). */
export interface Device {
  /** "cpu", or the GPU's index as a string ("0", "1"). */
  id: string;
  kind: "cpu" | "gpu";
  /** GPU index for CUDA_VISIBLE_DEVICES / HIP_VISIBLE_DEVICES / ROCR_VISIBLE_DEVICES; null for the CPU. */
  index: number | null;
  /** The GPU's UUID when known (nvidia-smi), else null. */
  uuid: string | null;
  /** A human name ("NVIDIA H200", "system RAM"). */
  name: string;
  vendor: "nvidia" | "amd" | null;
  /** Total memory. */
  total: Bytes;
  /** Used when switchyard started, by other processes (not ours). */
  usedAtStart: Bytes;
  /** Kept free on purpose (config `reserve`). */
  reserve: Bytes;
  source: DeviceSource;
}

/** Where a model's figure came from, weakest first. */
export type NeedSource = "unknown" | "guessed" | "declared" | "measured";

/** What one model needs: bytes per device id it runs on, or bytes on one device of the fit's choosing. */
export interface Need {
  /** Device id → bytes. A model spanning GPUs lists each. Empty when unknown or when `any` is set. */
  perDevice: Record<string, Bytes>;
  /** Bytes on one device the fit chooses (a GPU when there are GPUs, else the CPU); absent: perDevice says where. */
  any?: Bytes;
  source: NeedSource;
}

/** One measurement of a running model, per device id (edge code produces it after the model turned ready). */
export interface Measurement {
  model: string;
  perDevice: Record<string, Bytes>;
  /** How it was measured: per-process GPU memory over the process group, device delta, RSS or PSS. */
  method: "nvidia-per-process" | "device-delta" | "rss" | "pss";
  at: number;
}
