/** A model's state: the badge, and what it means now (load progress and ETA, drain countdown, failure). */
import { clock, ms } from "../lib/format.ts";
import { routerEvents, type InflightEntry, type RunningModel } from "../lib/store.ts";
import { drainOf, failureOf, loadProgressOf, useNow } from "./models-info.tsx";

/** The state badge; its text is the modelStatus state exactly. */
export function StateBadge(props: { id: string; state: string }) {
  const state = props.state || "unknown";
  return (
    <span class={`badge state-${state}`} data-testid={`model-state-${props.id}`}>
      {state}
    </span>
  );
}

/** Load progress: a bar against the median past load time (or the health-check timeout on a first load). */
function Loading(props: { id: string; waiting: InflightEntry[]; timeoutS: number | null }) {
  const now = useNow();
  const p = loadProgressOf(routerEvents.value, props.id, props.waiting, now);
  const budget = p.etaMs ?? (props.timeoutS ? props.timeoutS * 1000 : null);
  const frac = p.elapsedMs !== null && budget ? Math.min(0.97, p.elapsedMs / budget) : null;
  const left = p.etaMs !== null && p.elapsedMs !== null ? p.etaMs - p.elapsedMs : null;
  let text: string;
  if (p.etaMs === null) text = `first load${p.elapsedMs !== null ? `, ${ms(p.elapsedMs)} elapsed` : ""}${props.timeoutS ? ` (times out at ${props.timeoutS} s)` : ""}`;
  else if (p.elapsedMs === null) text = `usually ${ms(p.etaMs)} (median of ${p.samples})`;
  else text = `${ms(p.elapsedMs)} of ~${ms(p.etaMs)}${left !== null && left > 0 ? `, about ${ms(left)} left` : ", any moment now"}`;
  return (
    <div data-testid={`model-loading-${props.id}`}>
      <div
        class="progress"
        role="progressbar"
        aria-label={`Loading ${props.id}`}
        aria-valuemin={0}
        aria-valuemax={100}
        aria-valuenow={frac === null ? undefined : Math.round(frac * 100)}
        style={{ margin: "4px 0", minWidth: "120px" }}
      >
        <div style={{ width: `${frac === null ? 100 : Math.round(frac * 100)}%`, opacity: frac === null ? 0.35 : 1 }} />
      </div>
      <small class="muted">{text}</small>
    </div>
  );
}

/** A drain in progress: the requests it waits for and when it severs them. */
function Draining(props: { id: string; run: RunningModel | undefined }) {
  const now = useNow();
  const d = drainOf(routerEvents.value, props.id);
  if (!d && !props.run?.draining) return null;
  const count = props.run?.inFlight ?? d?.inFlight ?? 0;
  const left = d ? Math.max(0, d.deadline - now) : null;
  return (
    <div data-testid={`model-draining-${props.id}`}>
      <span class="badge state-draining">draining</span>{" "}
      <small class="muted">
        {count} in flight
        {left !== null && count > 0 ? `, severed in ${Math.ceil(left / 1000)} s` : ""}
        {d?.cause ? ` (${d.cause})` : ""}
      </small>
    </div>
  );
}

/** What the state means now, under the badge. */
export function StateDetail(props: { id: string; state: string; run: RunningModel | undefined; waiting: InflightEntry[]; timeoutS: number | null }) {
  const { id, state, run } = props;
  if (state === "starting") return <Loading id={id} waiting={props.waiting} timeoutS={props.timeoutS} />;
  if (state === "ready" || state === "stopping") {
    const drain = <Draining id={id} run={run} />;
    return (
      <div>
        {drain}
        {state === "ready" && run?.pid ? <small class="muted">pid {run.pid}{run.ttl > 0 ? `, unloads after ${run.ttl} s idle` : ""}</small> : null}
        {state === "stopping" && !run?.draining ? <small class="muted">stopping the process…</small> : null}
      </div>
    );
  }
  if (state === "stopped") {
    const failed = failureOf(routerEvents.value, id);
    if (!failed) return null;
    return (
      <div data-testid={`model-failed-${id}`}>
        <span class="badge state-failed">failed</span>{" "}
        <small class="muted">
          {failed.text} at {clock(failed.at)}
        </small>
      </div>
    );
  }
  return null;
}
