/**
 * Splits switchyard's loading-progress text out of a chat stream's `reasoning_content`: the block
 * between two rule lines ("━━━━━ / switchyard: loading model X / … / Done! X ready after Ns / ━━━━━")
 * becomes a LoadingInfo (queue position, elapsed, time left, raw lines); everything else is the
 * model's own reasoning. The texts are those of src/http/loading-stream.ts.
 */

/** What the loading block said so far. */
export interface LoadingInfo {
  /** The model being loaded, from "switchyard: loading model X" (or "waiting for model X" while queued). */
  model: string;
  /** The block's lines, rules left out. */
  lines: string[];
  /** Place in the queue, or null when not (or no longer) queued. */
  queuePosition: number | null;
  /** "Loading model X now" was seen (and the load has not finished). */
  loadingNow: boolean;
  /** Seconds since the request arrived, from the last tick line. */
  elapsedS: number | null;
  /** Seconds left of the load, from "about Ns left"; null when unknown. */
  leftS: number | null;
  /** Median of past loads, from "Expected load time: about Ns". */
  estimateS: number | null;
  /** The load takes longer than the estimate. */
  slow: boolean;
  /** "Done! X ready after Ns". */
  readyAfterS: number | null;
  /** "Failed after Ns". */
  failedAfterS: number | null;
  /** The closing rule came: the rest of the stream is the model's. */
  done: boolean;
  /** performance.now() when the last tick line came (to interpolate between ticks). */
  tickAt: number;
}

const RULE = /^\s*[━─\-=_]{3,}\s*$/;
const RULE_CHARS = /^[━─\-=_\s]*$/;

/** A fresh, empty LoadingInfo. */
export function emptyLoading(): LoadingInfo {
  return { model: "", lines: [], queuePosition: null, loadingNow: false, elapsedS: null, leftS: null, estimateS: null, slow: false, readyAfterS: null, failedAfterS: null, done: false, tickAt: 0 };
}

/** Apply one line of the loading block to `info`. */
export function applyLoadingLine(info: LoadingInfo, line: string, now = performance.now()): void {
  const text = line.trim();
  if (!text) return;
  info.lines.push(text);
  let m: RegExpExecArray | null;
  if ((m = /switchyard: (?:loading|waiting for) model (\S+)/.exec(text))) info.model = m[1]!;
  if ((m = /Expected load time: about (\d+(?:\.\d+)?)s/.exec(text))) info.estimateS = Number(m[1]);
  if ((m = /queue position:? #(\d+)/i.exec(text))) {
    info.queuePosition = Number(m[1]);
    info.loadingNow = false;
  }
  if (/^Loading model \S+ now/.test(text)) {
    info.loadingNow = true;
    info.queuePosition = null;
  }
  if ((m = /^(\d+(?:\.\d+)?)s elapsed/.exec(text))) {
    info.elapsedS = Number(m[1]);
    info.tickAt = now;
    const left = /about (\d+(?:\.\d+)?)s left/.exec(text);
    info.leftS = left ? Number(left[1]) : /taking longer than usual/.test(text) ? 0 : null;
    info.slow = /taking longer than usual/.test(text);
  }
  if ((m = /^Done! (\S+) ready after (\d+(?:\.\d+)?)s/.exec(text))) {
    info.readyAfterS = Number(m[2]);
    info.loadingNow = false;
    info.queuePosition = null;
    info.leftS = 0;
  }
  if ((m = /^Failed after (\d+(?:\.\d+)?)s/.exec(text))) {
    info.failedAfterS = Number(m[1]);
    info.loadingNow = false;
    info.queuePosition = null;
  }
}

/** The load's progress in [0, 1] (elapsed / (elapsed + left)), or null when there is no estimate. */
export function loadingProgress(info: LoadingInfo, now = performance.now()): number | null {
  if (info.readyAfterS !== null) return 1;
  if (info.queuePosition !== null) return 0;
  if (info.elapsedS === null || info.leftS === null) return null;
  const since = info.tickAt ? Math.max(0, (now - info.tickAt) / 1000) : 0;
  const elapsed = info.elapsedS + since;
  const left = Math.max(0, info.leftS - since);
  if (info.slow || left === 0) return 0.97;
  return Math.min(0.99, elapsed / (elapsed + left));
}

/** Feeds reasoning_content pieces in order; keeps the loading block out of the model's reasoning. */
export class ReasoningSplitter {
  /** The loading block, when the stream began with one. */
  readonly info: LoadingInfo = emptyLoading();
  private state: "start" | "loading" | "model" = "start";
  private pending = "";

  /** True once a loading block was seen at the start of the stream. */
  get sawLoading(): boolean {
    return this.state === "loading" || this.info.done;
  }

  /** Feed one piece; returns the part that is the model's own reasoning (often ""). */
  push(text: string, now = performance.now()): string {
    if (this.state === "model") return text;
    this.pending += text;
    if (this.state === "start") {
      const nl = this.pending.indexOf("\n");
      if (nl < 0) {
        // Could still become a rule line: wait for more.
        if (RULE_CHARS.test(this.pending)) return "";
        return this.toModel();
      }
      if (!RULE.test(this.pending.slice(0, nl))) return this.toModel();
      this.state = "loading";
      this.pending = this.pending.slice(nl + 1);
    }
    // Inside the block: whole lines only.
    let nl: number;
    while ((nl = this.pending.indexOf("\n")) >= 0) {
      const line = this.pending.slice(0, nl);
      this.pending = this.pending.slice(nl + 1);
      if (RULE.test(line)) {
        this.info.done = true;
        this.state = "model";
        const rest = this.pending.replace(/^\s*\n/, "");
        this.pending = "";
        return rest;
      }
      applyLoadingLine(this.info, line, now);
    }
    return "";
  }

  /** The stream ended: whatever was held back as a possible rule is the model's after all. */
  end(): string {
    if (this.state === "start" && this.pending) return this.toModel();
    return "";
  }

  private toModel(): string {
    this.state = "model";
    const out = this.pending;
    this.pending = "";
    return out;
  }
}
