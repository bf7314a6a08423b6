/** One model's page (`#/models/<id>`): its live state and actions, resolved config, recent activity and live output. */
import { href } from "../lib/route.ts";
import { inflight, models, routerEvents, running } from "../lib/store.ts";
import { ModelActions } from "./models-actions.tsx";
import { ModelActivity } from "./models-activity.tsx";
import { ModelConfigView } from "./models-config.tsx";
import { lastSwapOf, membershipsOf, requestsOf, serverConfigError, swapsOf, useServerConfig } from "./models-info.tsx";
import { ModelLogs } from "./models-logs.tsx";
import { StateBadge, StateDetail } from "./models-state.tsx";
import { LastSwap, WaitingList } from "./models-waiting.tsx";

/** The detail page of the model (or alias) `props.id`. */
export function ModelDetailPage(props: { id: string }) {
  const config = useServerConfig(props.id);
  const model = models.value.find((m) => m.id === props.id && !m.peerID) ?? models.value.find((m) => !m.peerID && m.aliases?.includes(props.id));
  const back = (
    <p style={{ margin: "0 0 8px" }}>
      <a href={href("models")}>← Models</a>
    </p>
  );
  if (!model) {
    return (
      <>
        {back}
        <h1>{props.id}</h1>
        <p class="muted" role="status">
          {models.value.length === 0 ? "Waiting for the server…" : `No local model is called “${props.id}”.`}
        </p>
      </>
    );
  }
  const id = model.id;
  const run = running.value.find((r) => r.model === id);
  const load = requestsOf(inflight.value.values(), run, id, model.aliases);
  const groups = membershipsOf(config, id);
  const resolved = config?.models[id];
  return (
    <>
      {back}
      <section class="card" aria-labelledby="model-title" data-testid={`model-row-${id}`} data-state={model.state}>
        <div class="row">
          <h1 id="model-title" style={{ margin: 0 }}>
            {model.name || id}
          </h1>
          {model.name && <span class="muted mono">{id}</span>}
          <StateBadge id={id} state={model.state} />
          <span class="spacer" />
          <ModelActions id={id} state={model.state} />
        </div>
        {model.description && <p style={{ margin: "4px 0" }}>{model.description}</p>}
        <StateDetail id={id} state={model.state} run={run} waiting={load.waiting} timeoutS={resolved?.healthCheckTimeout ?? null} />
        <div class="row" style={{ gap: "16px", margin: "6px 0" }}>
          <span>
            <small class="muted">In flight: </small>
            <span data-testid={`inflight-${id}`}>{load.inFlight}</span>
          </span>
          <span>
            <small class="muted">Queued: </small>
            <span data-testid={`queue-${id}`}>{load.queued}</span>
          </span>
          {model.aliases && model.aliases.length > 0 && (
            <span>
              <small class="muted">Aliases: </small>
              {model.aliases.join(", ")}
            </span>
          )}
        </div>
        <WaitingList id={id} waiting={load.waiting} />
        <LastSwap id={id} swap={lastSwapOf(swapsOf(routerEvents.value), id)} />
      </section>
      <section class="card" aria-labelledby="detail-config-title" data-testid="detail-config">
        <h2 id="detail-config-title" style={{ marginTop: 0 }}>
          Configuration
        </h2>
        {resolved ? <ModelConfigView model={resolved} groups={groups} /> : <p class="muted">{serverConfigError.value ? `Could not read the config: ${serverConfigError.value}` : "Loading…"}</p>}
      </section>
      <section class="card" aria-labelledby="detail-activity-title" data-testid="detail-activity">
        <h2 id="detail-activity-title" style={{ marginTop: 0 }}>
          Recent activity
        </h2>
        <ModelActivity id={id} />
      </section>
      <section class="card" aria-labelledby="detail-logs-title" data-testid="detail-logs">
        <h2 id="detail-logs-title" style={{ marginTop: 0 }}>
          Output
        </h2>
        <ModelLogs id={id} />
      </section>
    </>
  );
}
