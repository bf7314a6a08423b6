/** The host as detected at start (/api/hardware): CPU, memory, OS, environment and accelerators, with why none were found. */
import type { HardwareSnapshot } from "../../observe/hardware-snapshot.ts";
import { bytes } from "../lib/format.ts";

const or = (v: string | number | null | undefined): string => (v === null || v === undefined || v === "" ? "–" : String(v));

/** A card describing the machine. */
export function HardwareCard(props: { snapshot: HardwareSnapshot | null; error: string }) {
  const h = props.snapshot;
  if (!h)
    return (
      <div class="card" data-testid="hardware-card">
        <p class="muted">{props.error ? `Hardware detection unavailable: ${props.error}` : "Reading…"}</p>
      </div>
    );
  const rows: [string, string][] = [
    ["CPU", `${or(h.cpu.vendor)} ${or(h.cpu.model)}`.trim()],
    ["Cores / threads", `${or(h.cpu.physical_core_count)} / ${or(h.cpu.logical_thread_count)}`],
    ["Memory", bytes(h.memory.capacity_bytes)],
    ["Architecture", or(h.architecture.name)],
    ["Operating system", [h.operating_system.name, h.operating_system.version, h.operating_system.kernel && `kernel ${h.operating_system.kernel}`].filter(Boolean).join(", ") || h.operating_system.family],
    ["Environment", [h.environment.kind, h.environment.name].filter(Boolean).join(": ")],
    ["Detected", new Date(h.captured_at).toLocaleString()],
  ];
  return (
    <div class="card" data-testid="hardware-card">
      <div class="table-wrap">
        <table>
          <tbody>
            {rows.map(([k, v]) => (
              <tr>
                <th scope="row" style={{ width: "180px" }}>
                  {k}
                </th>
                <td>{v}</td>
              </tr>
            ))}
          </tbody>
        </table>
      </div>
      <h2>Accelerators</h2>
      {h.accelerators.length === 0 ? (
        <p class="muted">
          None found.{" "}
          {h.accelerator_probes.map((p) => `${p.tool}: ${p.status}${p.detail ? ` (${p.detail})` : ""}`).join("; ")}
        </p>
      ) : (
        <div class="table-wrap">
          <table>
            <thead>
              <tr>
                <th>#</th>
                <th>Model</th>
                <th>Vendor</th>
                <th class="num">Memory</th>
                <th>Driver</th>
                <th class="num">Power limit</th>
              </tr>
            </thead>
            <tbody>
              {h.accelerators.map((a) => (
                <tr>
                  <td>{a.index}</td>
                  <td>{or(a.model)}</td>
                  <td>{or(a.vendor)}</td>
                  <td class="num">{a.memory.capacity_bytes === null ? "–" : bytes(a.memory.capacity_bytes)}</td>
                  <td>{a.driver ? `${or(a.driver.name)} ${or(a.driver.version)}` : "–"}</td>
                  <td class="num">{a.power_limit_watts === null ? "–" : `${a.power_limit_watts} W`}</td>
                </tr>
              ))}
            </tbody>
          </table>
        </div>
      )}
    </div>
  );
}
