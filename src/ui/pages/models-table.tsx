/** The local and peer model lists of the Models page: a table on wide screens, cards at phone width. */
import type { ComponentChildren } from "preact";
import { href } from "../lib/route.ts";
import type { ApiModel, RunningModel } from "../lib/store.ts";
import { ModelActions } from "./models-actions.tsx";
import type { Membership, ModelLoad, SwapInfo } from "./models-info.tsx";
import { StateBadge, StateDetail } from "./models-state.tsx";
import { LastSwap, WaitingList } from "./models-waiting.tsx";

/** Everything one local model row shows. */
export interface ModelRowData {
  model: ApiModel;
  run: RunningModel | undefined;
  load: ModelLoad;
  groups: Membership[];
  swap: SwapInfo | null;
  timeoutS: number | null;
}

function IdLink(props: { id: string }) {
  return (
    <a href={href("models", props.id)} data-testid={`detail-${props.id}`} class="mono">
      {props.id}
    </a>
  );
}

function NameCell(props: { model: ApiModel }) {
  const m = props.model;
  return (
    <>
      {m.name && <div>{m.name}</div>}
      {m.description && <small class="muted">{m.description}</small>}
      {!m.name && !m.description && <span class="muted">–</span>}
      {m.unlisted && (
        <>
          {" "}
          <span class="badge muted">unlisted</span>
        </>
      )}
    </>
  );
}

const list = (xs: readonly string[] | undefined): string => (xs && xs.length > 0 ? xs.join(", ") : "–");

function Groups(props: { groups: Membership[] }) {
  if (props.groups.length === 0) return <span class="muted">–</span>;
  return (
    <>
      {props.groups.map((g) => (
        <span key={g.label} class="badge" title={g.title} style={{ marginRight: "4px", color: g.label === "(default)" ? "var(--muted)" : "var(--fg)" }}>
          {g.label}
        </span>
      ))}
    </>
  );
}

function Count(props: { testId: string; value: number; label: string }) {
  return (
    <span data-testid={props.testId} aria-label={`${props.value} ${props.label}`}>
      {props.value}
    </span>
  );
}

/** The wide layout: one row per model, and a second row for who waits and the last swap. */
export function LocalTable(props: { rows: ModelRowData[] }) {
  return (
    <div class="table-wrap">
      <table>
        <thead>
          <tr>
            <th scope="col">ID</th>
            <th scope="col">Name</th>
            <th scope="col">State</th>
            <th scope="col">Aliases</th>
            <th scope="col">Group / set</th>
            <th scope="col" class="num">
              In flight
            </th>
            <th scope="col" class="num">
              Queued
            </th>
            <th scope="col">Actions</th>
          </tr>
        </thead>
        <tbody>
          {props.rows.map((r) => {
            const id = r.model.id;
            const extra = r.load.waiting.length > 0 || r.swap !== null;
            // The second row continues this one: no line between them.
            const cell = extra ? { borderBottom: 0 } : undefined;
            return [
              <tr key={id} data-testid={`model-row-${id}`} data-state={r.model.state}>
                <td style={cell}>
                  <IdLink id={id} />
                </td>
                <td style={cell}>
                  <NameCell model={r.model} />
                </td>
                <td style={{ minWidth: "160px", ...cell }}>
                  <StateBadge id={id} state={r.model.state} />
                  <StateDetail id={id} state={r.model.state} run={r.run} waiting={r.load.waiting} timeoutS={r.timeoutS} />
                </td>
                <td style={cell}>{list(r.model.aliases)}</td>
                <td style={cell}>
                  <Groups groups={r.groups} />
                </td>
                <td class="num" style={cell}>
                  <Count testId={`inflight-${id}`} value={r.load.inFlight} label="in flight" />
                </td>
                <td class="num" style={cell}>
                  <Count testId={`queue-${id}`} value={r.load.queued} label="queued" />
                </td>
                <td style={cell}>
                  <ModelActions id={id} state={r.model.state} />
                </td>
              </tr>,
              extra && (
                <tr key={`${id}-extra`} data-testid={`model-extra-${id}`}>
                  <td />
                  <td colSpan={7} style={{ paddingTop: 0 }}>
                    <WaitingList id={id} waiting={r.load.waiting} />
                    <LastSwap id={id} swap={r.swap} />
                  </td>
                </tr>
              ),
            ];
          })}
        </tbody>
      </table>
    </div>
  );
}

/** A label and value pair of a card. */
function Field(props: { label: string; children: ComponentChildren }) {
  return (
    <div>
      <small class="muted">{props.label}: </small>
      {props.children}
    </div>
  );
}

/** The phone layout: one card per model. */
export function LocalCards(props: { rows: ModelRowData[] }) {
  return (
    <div>
      {props.rows.map((r) => {
        const id = r.model.id;
        return (
          <article key={id} class="card" data-testid={`model-row-${id}`} data-state={r.model.state} aria-label={id}>
            <div class="row">
              <IdLink id={id} />
              <StateBadge id={id} state={r.model.state} />
            </div>
            <NameCell model={r.model} />
            <StateDetail id={id} state={r.model.state} run={r.run} waiting={r.load.waiting} timeoutS={r.timeoutS} />
            <div class="row" style={{ gap: "12px", margin: "4px 0" }}>
              <Field label="In flight">
                <Count testId={`inflight-${id}`} value={r.load.inFlight} label="in flight" />
              </Field>
              <Field label="Queued">
                <Count testId={`queue-${id}`} value={r.load.queued} label="queued" />
              </Field>
            </div>
            {r.model.aliases && r.model.aliases.length > 0 && <Field label="Aliases">{list(r.model.aliases)}</Field>}
            {r.groups.length > 0 && (
              <Field label="Group / set">
                <Groups groups={r.groups} />
              </Field>
            )}
            <WaitingList id={id} waiting={r.load.waiting} />
            <LastSwap id={id} swap={r.swap} />
            <div style={{ marginTop: "8px" }}>
              <ModelActions id={id} state={r.model.state} />
            </div>
          </article>
        );
      })}
    </div>
  );
}

/** Peer models: forwarded as they are, no process here to load or unload. */
export function PeerList(props: { peers: ApiModel[]; inFlight: (id: string) => number; narrow: boolean }) {
  if (props.narrow)
    return (
      <ul style={{ margin: 0, paddingLeft: "18px" }}>
        {props.peers.map((m) => (
          <li key={m.id} data-testid={`peer-row-${m.id}`}>
            <span class="mono">{m.id}</span> <span class="muted">via {m.peerID}</span>, {props.inFlight(m.id)} in flight
          </li>
        ))}
      </ul>
    );
  return (
    <div class="table-wrap">
      <table>
        <thead>
          <tr>
            <th scope="col">ID</th>
            <th scope="col">Peer</th>
            <th scope="col" class="num">
              In flight
            </th>
          </tr>
        </thead>
        <tbody>
          {props.peers.map((m) => (
            <tr key={m.id} data-testid={`peer-row-${m.id}`}>
              <td class="mono">{m.id}</td>
              <td>{m.peerID}</td>
              <td class="num">{props.inFlight(m.id)}</td>
            </tr>
          ))}
        </tbody>
      </table>
    </div>
  );
}
