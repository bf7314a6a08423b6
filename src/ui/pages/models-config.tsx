/** A model's resolved config on its detail page: argv as a list, env as a table, the rest as fields. */
import type { ComponentChildren } from "preact";
import type { ModelConfig } from "../../config/types.ts";
import { isNarrow, type Membership } from "./models-info.tsx";

function Field(props: { label: string; children: ComponentChildren }) {
  return (
    <tr>
      <th scope="row" style={isNarrow() ? { width: "30%", overflowWrap: "anywhere" } : { width: "180px" }}>
        {props.label}
      </th>
      <td>{props.children}</td>
    </tr>
  );
}

function Argv(props: { argv: string[] }) {
  if (props.argv.length === 0) return <span class="muted">–</span>;
  return (
    <ol style={{ margin: 0, paddingLeft: "24px" }}>
      {props.argv.map((a, i) => (
        <li key={i}>
          <code style={{ wordBreak: "break-all" }}>{a}</code>
        </li>
      ))}
    </ol>
  );
}

function EnvTable(props: { env: Record<string, string> }) {
  const names = Object.keys(props.env).sort();
  if (names.length === 0) return <span class="muted">–</span>;
  return (
    <table style={{ width: "auto" }}>
      <tbody>
        {names.map((k) => (
          <tr key={k}>
            <td>
              <code>{k}</code>
            </td>
            <td>
              <code style={{ wordBreak: "break-all" }}>{props.env[k]}</code>
            </td>
          </tr>
        ))}
      </tbody>
    </table>
  );
}

/** JSON of a value, or a dash when it is empty. */
function Json(props: { value: unknown }) {
  const v = props.value;
  const empty = v === null || v === undefined || (Array.isArray(v) ? v.length === 0 : typeof v === "object" && Object.keys(v).length === 0);
  if (empty) return <span class="muted">–</span>;
  return <pre style={{ margin: 0, whiteSpace: "pre-wrap" }}>{JSON.stringify(v, null, 2)}</pre>;
}

const secs = (n: number): string => (n === 0 ? "0 (never)" : `${n} s`);

/** The resolved config of one model (secrets already masked by the server). */
export function ModelConfigView(props: { model: ModelConfig; groups: Membership[] }) {
  const m = props.model;
  return (
    <div class="table-wrap">
      <table>
        <tbody>
          <Field label="cmd">
            <Argv argv={m.cmd} />
          </Field>
          {m.cmdStop.length > 0 && (
            <Field label="cmdStop">
              <Argv argv={m.cmdStop} />
            </Field>
          )}
          <Field label="env">
            <EnvTable env={m.env} />
          </Field>
          <Field label="proxy">
            <code>{m.proxy}</code>
            {m.port !== null && <span class="muted"> (port {m.port})</span>}
          </Field>
          <Field label="checkEndpoint">
            <code>{m.checkEndpoint}</code>
          </Field>
          <Field label="ttl">{secs(m.ttl)}</Field>
          <Field label="concurrencyLimit">{m.concurrencyLimit}</Field>
          <Field label="drainTimeout">{m.drainTimeout} s</Field>
          <Field label="unloadTimeout">{m.unloadTimeout} s</Field>
          <Field label="healthCheckTimeout">{m.healthCheckTimeout} s</Field>
          <Field label="aliases">{m.aliases.length > 0 ? m.aliases.join(", ") : <span class="muted">–</span>}</Field>
          <Field label="group / set">{props.groups.length > 0 ? props.groups.map((g) => g.title).join("; ") : <span class="muted">–</span>}</Field>
          <Field label="useModelName">{m.useModelName || <span class="muted">–</span>}</Field>
          <Field label="sendLoadingState">{m.sendLoadingState ? "yes" : "no"}</Field>
          <Field label="unlisted">{m.unlisted ? "yes" : "no"}</Field>
          <Field label="filters.stripParams">{m.filters.stripParams.length > 0 ? m.filters.stripParams.join(", ") : <span class="muted">–</span>}</Field>
          <Field label="filters.setParams">
            <Json value={m.filters.setParams} />
          </Field>
          <Field label="filters.setParamsByID">
            <Json value={m.filters.setParamsByID} />
          </Field>
          <Field label="metadata">
            <Json value={m.metadata} />
          </Field>
        </tbody>
      </table>
    </div>
  );
}
