/** The playground's speech tab: text to /v1/audio/speech, the returned audio played in an <audio> element. */
import { signal } from "@preact/signals";
import { useEffect, useRef } from "preact/hooks";
import { bytes, ms } from "../lib/format.ts";
import { mediaBlobType } from "../lib/safe-url.ts";
import { MediaTab } from "./playground-common.tsx";
import { mediaRun, runRequest } from "./playground-request.ts";

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
      // The blob: URL is switchyard's origin: an answer typed text/html must not become a page there (Download, opened in a tab).
      const raw = await res.blob();
      const blob = raw.slice(0, raw.size, mediaBlobType(type));
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
  const a = audio.value;
  return (
    <MediaTab
      tab="speech"
      cap="speech"
      testId="pg-speech-tab"
      run={run}
      sendLabel="Speak"
      ready={input.value.trim() !== ""}
      onSend={(m) => void speak(m)}
      fields={
        <>
          <label for="pg-speech-input">Text</label>
          <textarea id="pg-speech-input" data-testid="pg-prompt" rows={3} value={input.value} placeholder="Text to speak" onInput={(e) => (input.value = (e.target as HTMLTextAreaElement).value)} />
        </>
      }
      options={
        <>
          <label for="pg-voice">Voice</label>
          <input id="pg-voice" data-testid="pg-voice" placeholder="server default" style={{ width: "10em" }} value={voice.value} onInput={(e) => (voice.value = (e.target as HTMLInputElement).value)} />
          <label for="pg-speech-format">Format</label>
          <select id="pg-speech-format" data-testid="pg-speech-format" value={format.value} onChange={(e) => (format.value = (e.target as HTMLSelectElement).value)}>
            <option value="">server default</option>
            {["wav", "mp3", "opus", "flac", "aac"].map((f) => (
              <option value={f}>{f}</option>
            ))}
          </select>
        </>
      }
    >
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
    </MediaTab>
  );
}
