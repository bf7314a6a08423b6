/** The Config page: the resolved configuration, read only (secrets masked by the server), with the warnings `--check` gives. */
import { useSignal } from "@preact/signals";
import { useEffect } from "preact/hooks";
import type { Config, ConfigWarning } from "../../config/types.ts";
import { apiJson, apiKey } from "../lib/api.ts";
import { href } from "../lib/route.ts";
import { configSeq } from "../lib/store.ts";

function Warnings(props: { warnings: ConfigWarning[] }) {
  return (
    <section class="card" data-testid="config-warnings" aria-labelledby="config-warnings-title">
      <h2 id="config-warnings-title" style={{ marginTop: 0 }}>
        Warnings ({props.warnings.length})
      </h2>
      {props.warnings.length === 0 ? (
        <p class="muted">None: every key of the file is used as written.</p>
      ) : (
        <ul style={{ margin: 0, paddingLeft: "20px" }}>
          {props.warnings.map((w) => (
            <li class="state-starting">
              <code>{w.path || "(top level)"}</code>
              {w.line !== null && <span class="muted"> line {w.line}</span>}: <span style={{ color: "var(--fg)" }}>{w.message}</span>
            </li>
          ))}
        </ul>
      )}
    </section>
  );
}

function Models(props: { config: Config }) {
  const ids = Object.keys(props.config.models).sort();
  return (
    <section class="card" aria-labelledby="config-models-title">
      <h2 id="config-models-title" style={{ marginTop: 0 }}>
        Models ({ids.length})
      </h2>
      <div class="table-wrap">
        <table data-testid="config-models">
          <thead>
            <tr>
              <th>ID</th>
              <th>Command</th>
              <th>Proxy</th>
              <th class="num">TTL</th>
              <th>Aliases</th>
            </tr>
          </thead>
          <tbody>
            {ids.map((id) => {
              const m = props.config.models[id]!;
              return (
                <tr data-testid={`config-model-${id}`}>
                  <td>
                    <a href={href("models", id)}>{id}</a>
                    {m.unlisted && <span class="muted"> (unlisted)</span>}
                  </td>
                  <td>
                    <code style={{ wordBreak: "break-all" }}>{m.cmd.join(" ")}</code>
                  </td>
                  <td>
                    <code>{m.proxy}</code>
                  </td>
                  <td class="num">{m.ttl === 0 ? "never" : `${m.ttl} s`}</td>
                  <td>{m.aliases.join(", ") || <span class="muted">–</span>}</td>
                </tr>
              );
            })}
          </tbody>
        </table>
      </div>
    </section>
  );
}

/** The Config page (`#/config`). */
export function ConfigPage() {
  const data = useSignal<{ config: Config; warnings: ConfigWarning[] } | null>(null);
  const error = useSignal("");
  const copied = useSignal(false);
  const key = apiKey.value;
  // Read again after each config reload: the page shows what the server runs now.
  const seq = configSeq.value;
  useEffect(() => {
    apiJson<{ config: Config; warnings: ConfigWarning[] }>("/api/config").then(
      (r) => {
        data.value = r;
        error.value = "";
      },
      (err: unknown) => (error.value = err instanceof Error ? err.message : String(err)),
    );
  }, [key, seq]);
  if (error.value)
    return (
      <p role="alert" class="state-failed">
        Could not read the config: {error.value}
      </p>
    );
  if (!data.value) return <p class="muted">Reading…</p>;
  const { config, warnings } = data.value;
  const { models: _models, warnings: _w, ...global } = config;
  const raw = JSON.stringify(config, null, 2);
  return (
    <>
      <h1>Config</h1>
      <p class="muted">The configuration as switchyard resolved it (macros expanded, defaults filled in), read only. Secrets are masked.</p>
      <Warnings warnings={warnings} />
      <Models config={config} />
      <section class="card" aria-labelledby="config-global-title">
        <h2 id="config-global-title" style={{ marginTop: 0 }}>
          Settings
        </h2>
        <div class="table-wrap">
          <table>
            <tbody>
              {Object.entries(global).map(([k, v]) => (
                <tr>
                  <th scope="row" style={{ width: "200px" }}>
                    <code>{k}</code>
                  </th>
                  <td>
                    <code style={{ whiteSpace: "pre-wrap", wordBreak: "break-all" }}>{typeof v === "object" && v !== null ? JSON.stringify(v) : String(v)}</code>
                  </td>
                </tr>
              ))}
            </tbody>
          </table>
        </div>
      </section>
      <details class="card">
        <summary>Everything, as JSON</summary>
        <div class="row" style={{ margin: "8px 0" }}>
          <button
            type="button"
            class="ghost"
            onClick={() => {
              void navigator.clipboard?.writeText(raw).then(() => (copied.value = true), () => {});
            }}
          >
            {copied.value ? "Copied" : "Copy"}
          </button>
        </div>
        <pre class="log" style={{ height: "auto", maxHeight: "70vh" }} data-testid="config-raw">
          {raw}
        </pre>
      </details>
    </>
  );
}
