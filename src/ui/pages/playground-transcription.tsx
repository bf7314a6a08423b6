/** The playground's transcription tab: an uploaded audio file sent as multipart to /v1/audio/transcriptions, the text shown. */
import { signal } from "@preact/signals";
import { bytes, ms } from "../lib/format.ts";
import { MediaTab } from "./playground-common.tsx";
import { mediaRun, runRequest } from "./playground-request.ts";

const run = mediaRun();
const file = signal<File | null>(null);
const language = signal("");
const text = signal<string | null>(null);

async function transcribe(model: string): Promise<void> {
  const f = file.value;
  if (!f || !model) return;
  const form = new FormData();
  form.append("model", model);
  form.append("file", f, f.name);
  form.append("response_format", "json");
  if (language.value.trim()) form.append("language", language.value.trim());
  // No content-type header: the browser sets multipart/form-data with its boundary.
  await runRequest(run, "/v1/audio/transcriptions", { method: "POST", body: form }, async (res) => {
    const raw = await res.text();
    try {
      const body = JSON.parse(raw) as { text?: unknown };
      text.value = typeof body.text === "string" ? body.text : raw;
    } catch {
      text.value = raw;
    }
  });
}

/** The transcription tab. */
export function TranscriptionTab() {
  const f = file.value;
  return (
    <MediaTab
      tab="transcription"
      cap="transcription"
      testId="pg-transcription-tab"
      run={run}
      sendLabel="Transcribe"
      ready={f !== null}
      onSend={(m) => void transcribe(m)}
      fields={
        <>
          <label for="pg-file">Audio file</label>
          <input id="pg-file" data-testid="pg-file" type="file" accept="audio/*,video/*,.wav,.mp3,.m4a,.ogg,.opus,.flac,.webm" onChange={(e) => (file.value = (e.target as HTMLInputElement).files?.[0] ?? null)} />
          {f && (
            <small class="muted">
              {f.name}, {bytes(f.size)}
            </small>
          )}
        </>
      }
      options={
        <>
          <label for="pg-language">Language</label>
          <input id="pg-language" data-testid="pg-language" placeholder="auto" style={{ width: "6em" }} value={language.value} onInput={(e) => (language.value = (e.target as HTMLInputElement).value)} />
        </>
      }
    >
      {text.value !== null && (
        <div class="pg-result">
          <div class="pg-text pg-box" data-testid="pg-transcript">
            {text.value || "(empty transcript)"}
          </div>
          {run.tookMs.value !== null && <small class="muted">took {ms(run.tookMs.value)}</small>}
        </div>
      )}
    </MediaTab>
  );
}
