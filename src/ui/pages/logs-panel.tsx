/** One live log panel: ANSI colours rendered by ansi_up, filtered by model and text, frozen while paused, following the end. */
import { AnsiUp } from "ansi_up";
import { useLayoutEffect, useMemo, useRef } from "preact/hooks";
import { download } from "../lib/format.ts";

/** Levels a proxy line may start with (`[INFO] …` without a timestamp): not a model's prefix. */
const LEVEL_TAGS = new Set(["DEBUG", "INFO", "WARN", "ERROR"]);
/** Characters a model ID may hold: a name is only a mention when none of them touches it. */
const ID_CHAR = /[\p{L}\p{N}_.:/@+-]/u;

/** Whether `line` names `model` as a whole (not `qwen` inside `qwen-coder`). */
function names(line: string, model: string): boolean {
  for (let i = line.indexOf(model); i >= 0; i = line.indexOf(model, i + 1)) {
    const before = i > 0 ? line[i - 1]! : "";
    const after = line[i + model.length] ?? "";
    if (!ID_CHAR.test(before) && !ID_CHAR.test(after)) return true;
  }
  return false;
}

/** The lines of `text` that concern `model` (an upstream line's `[<id>] ` prefix decides; a proxy line names it as a whole) and contain `contains`. */
export function filterLines(text: string, model: string, contains: string): string {
  if (!model && !contains) return text;
  const needle = contains.toLowerCase();
  const concerns = (line: string): boolean => {
    const tag = /^\[([^\]\s]+)\] /.exec(line)?.[1];
    if (tag !== undefined && !LEVEL_TAGS.has(tag)) return tag === model;
    return names(line, model);
  };
  return text
    .split("\n")
    .filter((line) => (!model || concerns(line)) && (!needle || stripAnsi(line).toLowerCase().includes(needle)))
    .join("\n");
}

/** `s` without ANSI escape sequences. */
const stripAnsi = (s: string): string => s.replace(/\u001b\[[0-9;?]*[ -/]*[@-~]/g, "");

/** A titled, scrollable log that follows its end unless the reader scrolled up. */
export function LogPanel(props: { title: string; source: string; model: string; contains: string; paused: boolean; testId: string }) {
  // While paused, keep showing the text as it was when the pause began.
  const frozen = useRef<string | null>(null);
  if (props.paused && frozen.current === null) frozen.current = props.source;
  if (!props.paused) frozen.current = null;
  const text = frozen.current ?? props.source;
  const shown = useMemo(() => filterLines(text, props.model, props.contains), [text, props.model, props.contains]);
  const html = useMemo(() => {
    // A fresh converter each time: the whole text is converted, so no colour state carries over.
    const au = new AnsiUp();
    au.use_classes = false;
    return au.ansi_to_html(shown);
  }, [shown]);
  const pre = useRef<HTMLPreElement>(null);
  const stick = useRef(true);
  useLayoutEffect(() => {
    const el = pre.current;
    if (el && stick.current && !props.paused) el.scrollTop = el.scrollHeight;
  }, [html, props.paused]);
  const lines = shown === "" ? 0 : shown.split("\n").filter((l) => l !== "").length;
  return (
    <section class="card" aria-label={props.title} style={{ marginBottom: 0, minWidth: 0 }}>
      <div class="row" style={{ marginBottom: "6px" }}>
        <h2 style={{ margin: 0 }}>{props.title}</h2>
        <span class="muted">{lines} lines</span>
        <span class="spacer" />
        <button type="button" class="ghost" onClick={() => download(`switchyard-${props.testId}.log`, stripAnsi(shown))}>
          Download
        </button>
      </div>
      <pre
        class="log"
        ref={pre}
        tabIndex={0}
        aria-label={`${props.title} log`}
        aria-live="off"
        data-testid={props.testId}
        onScroll={(e) => {
          const el = e.currentTarget;
          stick.current = el.scrollHeight - el.scrollTop - el.clientHeight < 24;
        }}
        dangerouslySetInnerHTML={{ __html: html || '<span class="muted">No lines yet.</span>' }}
      />
    </section>
  );
}
