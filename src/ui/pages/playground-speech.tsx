/** The playground's speech tab: text to /v1/audio/speech, the returned audio played in an <audio> element. */
import { signal } from "@preact/signals";
import { useEffect, useRef } from "preact/hooks";
import { bytes, ms } from "../lib/format.ts";
import { ErrorBox, ModelPicker, RunStatus, useTabModel } from "./playground-common.tsx";
import { cancelRun, mediaRun, runRequest } from "./playground-request.ts";

const run = mediaRun();
const input = signal("");
const voice = signal("");
const format = signal("");
const audio = signal<{ url: string; type: string; size: number } | null>(null);

async function speak(model: string): Promise<void> {
  if (!input.value.trim() || !model) return;
  await runRequest(
    run,
    "/v1/audio/speech",
    {
      method: "POST",
      headers: { "content-type": "application/json" },
      body: JSON.stringify({ model, input: input.value.trim(), ...(voice.value.trim() ? { voice: voice.value.trim() } : {}), ...(format.value ? { response_format: format.value } : {}) }),
    },
    async (res) => {
      const type = res.headers.get("content-type") ?? "";
      if (type.includes("json")) throw new Error(`expected audio, got ${type}`);
      const blob = await res.blob();
      if (audio.value) URL.revokeObjectURL(audio.value.url);
      audio.value = { url: URL.createObjectURL(blob), type: type || "audio", size: blob.size };
    },
  );
}

function Player(props: { url: string }) {
  const el = useRef<HTMLAudioElement>(null);
  useEffect(() => {
    // Play the new answer; a browser that blocks autoplay leaves the controls to the user.
    el.current?.play().catch(() => {});
  }, [props.url]);
  return <audio ref={el} controls src={props.url} data-testid="pg-audio" />;
}

/** The speech tab. */
export function SpeechTab() {
  const { id: model } = useTabModel("speech", "speech");
  const busy = run.busy.value;
  const a = audio.value;
  return (
    <div class="pg-media" data-testid="pg-speech-tab">
      <ModelPicker tab="speech" cap="speech" disabled={busy} />
      <form
        class="pg-compose"
        onSubmit={(e) => {
          e.preventDefault();
          void speak(model);
        }}
      >
        <label for="pg-speech-input">Text</label>
        <textarea id="pg-speech-input" data-testid="pg-prompt" rows={3} value={input.value} placeholder="Text to speak" onInput={(e) => (input.value = (e.target as HTMLTextAreaElement).value)} />
        <div class="row">
          <label for="pg-voice">Voice</label>
          <input id="pg-voice" data-testid="pg-voice" placeholder="server default" style={{ width: "10em" }} value={voice.value} onInput={(e) => (voice.value = (e.target as HTMLInputElement).value)} />
          <label for="pg-speech-format">Format</label>
          <select id="pg-speech-format" data-testid="pg-speech-format" value={format.value} onChange={(e) => (format.value = (e.target as HTMLSelectElement).value)}>
            <option value="">server default</option>
            {["wav", "mp3", "opus", "flac", "aac"].map((f) => (
              <option value={f}>{f}</option>
            ))}
          </select>
          <button type="submit" data-testid="pg-send" disabled={busy || !model || !input.value.trim()}>
            Speak
          </button>
          <button type="button" class="ghost" data-testid="pg-stop" disabled={!busy} onClick={() => cancelRun(run)}>
            Cancel
          </button>
        </div>
      </form>
      <RunStatus runId={run.runId.value} busy={busy} startedAt={run.startedAt.value} />
      <ErrorBox message={run.error.value} />
      {a && (
        <div class="pg-result">
          <Player url={a.url} />
          <div class="row">
            <small class="muted">
              {a.type}, {bytes(a.size)}
              {run.tookMs.value !== null ? `, took ${ms(run.tookMs.value)}` : ""}
            </small>
            <a href={a.url} download={`speech.${a.type.includes("wav") ? "wav" : a.type.split("/")[1]?.split(";")[0] || "audio"}`}>
              Download
            </a>
          </div>
        </div>
      )}
    </div>
  );
}
