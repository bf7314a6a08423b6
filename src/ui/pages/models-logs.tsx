/** A model's live output: the upstream log lines it wrote (prefixed `[<id>] `), colours kept, following the bottom. */
import { AnsiUp } from "ansi_up";
import { useLayoutEffect, useMemo, useRef } from "preact/hooks";
import { logs } from "../lib/store.ts";

/** The lines of `text` that `id` wrote, without their prefix. */
export function linesOf(text: string, id: string): string {
  const prefix = `[${id}] `;
  const out: string[] = [];
  for (const line of text.split("\n")) if (line.startsWith(prefix)) out.push(line.slice(prefix.length));
  return out.join("\n");
}

/** The log view: scrolled to the end as lines arrive, unless the reader scrolled up. */
export function ModelLogs(props: { id: string }) {
  const text = logs.upstream.value;
  const html = useMemo(() => {
    const mine = linesOf(text, props.id);
    if (!mine) return "";
    // A fresh converter each time: the whole text is converted, so no colour carries over.
    const au = new AnsiUp();
    au.use_classes = false;
    return au.ansi_to_html(mine);
  }, [text, props.id]);
  const pre = useRef<HTMLPreElement>(null);
  const stick = useRef(true);
  useLayoutEffect(() => {
    const el = pre.current;
    if (el && stick.current) el.scrollTop = el.scrollHeight;
  }, [html]);
  if (!html) return <p class="muted">No output from this model in this session yet (the upstream log keeps the last 256 KB of all models).</p>;
  return (
    <pre
      class="log"
      ref={pre}
      tabIndex={0}
      aria-label={`Output of ${props.id}`}
      style={{ height: "40vh" }}
      onScroll={(e) => {
        const el = e.currentTarget;
        stick.current = el.scrollHeight - el.scrollTop - el.clientHeight < 24;
      }}
      dangerouslySetInnerHTML={{ __html: html }}
    />
  );
}
