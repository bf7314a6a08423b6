/** The modal that shows one captured exchange (`/api/captures/<id>`): headers as tables, bodies decoded. */
import { useEffect, useRef, useState } from "preact/hooks";
import { ApiError, apiJson } from "../lib/api.ts";
import { bytes as fmtBytes } from "../lib/format.ts";
import type { CaptureJson } from "./activity-data.ts";

/** A body decoded for display: text (JSON pretty-printed), an image, or a note for other binary data. */
type Shown = { kind: "text"; text: string } | { kind: "image"; src: string } | { kind: "binary"; note: string };

const contentType = (h: Record<string, string>): string => (Object.entries(h).find(([k]) => k.toLowerCase() === "content-type")?.[1] ?? "").toLowerCase();

function decode(b64: string, type: string): Shown {
  if (!b64) return { kind: "text", text: "" };
  let raw: Uint8Array;
  try {
    raw = Uint8Array.from(atob(b64), (c) => c.charCodeAt(0));
  } catch {
    return { kind: "text", text: b64 };
  }
  if (type.startsWith("image/")) return { kind: "image", src: `data:${type.split(";")[0]!.trim()};base64,${b64}` };
  let text: string;
  try {
    text = new TextDecoder("utf-8", { fatal: true }).decode(raw);
  } catch {
    return { kind: "binary", note: `(binary data, ${fmtBytes(raw.byteLength)}${type ? `, ${type}` : ""})` };
  }
  // An event stream is shown as it was sent; JSON is indented.
  if (type.includes("text/event-stream")) return { kind: "text", text };
  if (type.includes("json") || /^\s*[[{]/.test(text)) {
    try {
      return { kind: "text", text: JSON.stringify(JSON.parse(text), null, 2) };
    } catch {}
  }
  return { kind: "text", text };
}

function HeaderTable(props: { title: string; headers: Record<string, string>; testId: string }) {
  const rows = Object.entries(props.headers).sort(([a], [b]) => a.localeCompare(b));
  return (
    <details open>
      <summary>
        <strong>{props.title}</strong> <span class="muted">({rows.length})</span>
      </summary>
      <div class="table-wrap" style={{ maxHeight: "200px", overflowY: "auto" }}>
        <table data-testid={props.testId}>
          <tbody>
            {rows.map(([k, v]) => (
              <tr key={k}>
                <th scope="row" class="mono" style={{ whiteSpace: "nowrap", width: "1%" }}>
                  {k}
                </th>
                <td class="mono" style={{ wordBreak: "break-all" }}>
                  {v}
                </td>
              </tr>
            ))}
          </tbody>
        </table>
      </div>
    </details>
  );
}

function Body(props: { title: string; b64: string; type: string; testId: string }) {
  const shown = decode(props.b64, props.type);
  return (
    <details open>
      <summary>
        <strong>{props.title}</strong> {props.type && <span class="muted mono">{props.type}</span>}
      </summary>
      {shown.kind === "image" ? (
        <img src={shown.src} alt={props.title} style={{ maxWidth: "100%" }} data-testid={props.testId} />
      ) : (
        <pre class="log" style={{ height: "auto", maxHeight: "40vh" }} data-testid={props.testId} tabIndex={0}>
          {shown.kind === "binary" ? shown.note : shown.text || "(empty)"}
        </pre>
      )}
    </details>
  );
}

/** Keep Tab within `box`, close on Escape, focus the dialog on open and give focus back on close. */
function useDialogFocus(box: { current: HTMLElement | null }, onClose: () => void): void {
  const close = useRef(onClose);
  close.current = onClose;
  useEffect(() => {
    const before = document.activeElement as HTMLElement | null;
    box.current?.focus();
    const onKey = (e: KeyboardEvent): void => {
      if (e.key === "Escape") {
        e.preventDefault();
        close.current();
        return;
      }
      if (e.key !== "Tab" || !box.current) return;
      const items = [...box.current.querySelectorAll<HTMLElement>('button, [href], summary, [tabindex]:not([tabindex="-1"]), input, select, textarea')].filter((el) => !el.hasAttribute("disabled"));
      if (items.length === 0) return;
      const first = items[0]!;
      const last = items[items.length - 1]!;
      const at = document.activeElement;
      if (e.shiftKey && (at === first || at === box.current)) {
        e.preventDefault();
        last.focus();
      } else if (!e.shiftKey && (at === last || !box.current.contains(at))) {
        e.preventDefault();
        first.focus();
      }
    };
    document.addEventListener("keydown", onKey);
    return () => {
      document.removeEventListener("keydown", onKey);
      before?.focus?.();
    };
  }, []);
}

/** The capture of record `id` in a modal (`data-testid="capture-dialog"`); Close or Escape calls `onClose`. */
export function CaptureDialog(props: { id: number; onClose: () => void }) {
  const [capture, setCapture] = useState<CaptureJson | null>(null);
  const [error, setError] = useState("");
  const box = useRef<HTMLDivElement>(null);
  useDialogFocus(box, props.onClose);

  useEffect(() => {
    let live = true;
    setCapture(null);
    setError("");
    apiJson<CaptureJson>(`/api/captures/${props.id}`).then(
      (c) => live && setCapture(c),
      (err: unknown) => {
        if (!live) return;
        if (err instanceof ApiError && err.status === 404) setError("This capture is gone: it was pushed out of the capture buffer, or captures are off.");
        else setError(err instanceof Error ? err.message : String(err));
      },
    );
    return () => {
      live = false;
    };
  }, [props.id]);

  return (
    <div class="modal-backdrop" onClick={(e) => e.target === e.currentTarget && props.onClose()}>
      <div ref={box} class="modal" role="dialog" aria-modal="true" aria-labelledby="capture-title" tabIndex={-1} data-testid="capture-dialog" style={{ width: "min(1000px, 96vw)", outline: "none" }}>
        <div class="row" style={{ position: "sticky", top: "-16px", margin: "-16px -16px 0", padding: "12px 16px", background: "var(--card)", borderBottom: "1px solid var(--line)", zIndex: 1 }}>
          <h2 id="capture-title" style={{ margin: 0 }}>
            Capture #{props.id} {capture && <span class="muted mono">{capture.req_path}</span>}
          </h2>
          <span class="spacer" />
          <button type="button" class="ghost" onClick={props.onClose} data-testid="capture-close">
            Close
          </button>
        </div>
        {error && <p role="alert">{error}</p>}
        {!capture && !error && <p class="muted">Loading…</p>}
        {capture && (
          <>
            <HeaderTable title="Request headers" headers={capture.req_headers} testId="capture-req-headers" />
            <Body title="Request body" b64={capture.req_body} type={contentType(capture.req_headers)} testId="capture-req-body" />
            <HeaderTable title="Response headers" headers={capture.resp_headers} testId="capture-resp-headers" />
            <Body title="Response body" b64={capture.resp_body} type={contentType(capture.resp_headers)} testId="capture-resp-body" />
          </>
        )}
      </div>
    </div>
  );
}
