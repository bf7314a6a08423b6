/** The playground's image tab: a prompt to /v1/images/generations, the returned images (b64_json or url) shown and downloadable. */
import { signal } from "@preact/signals";
import { ms } from "../lib/format.ts";
import { safeMediaUrl } from "../lib/safe-url.ts";
import { MediaTab, useTabModel } from "./playground-common.tsx";
import { mediaRun, runRequest } from "./playground-request.ts";

const run = mediaRun();
const prompt = signal("");
const size = signal("512x512");
const count = signal(1);
const images = signal<{ src: string; alt: string }[]>([]);

/** The image type a base64 payload starts with. */
function mimeOf(b64: string): string {
  if (b64.startsWith("/9j/")) return "image/jpeg";
  if (b64.startsWith("UklGR")) return "image/webp";
  if (b64.startsWith("R0lGOD")) return "image/gif";
  return "image/png";
}

async function generate(model: string): Promise<void> {
  if (!prompt.value.trim() || !model) return;
  await runRequest(
    run,
    "/v1/images/generations",
    { method: "POST", headers: { "content-type": "application/json" }, body: JSON.stringify({ model, prompt: prompt.value.trim(), n: count.value, size: size.value, response_format: "b64_json" }) },
    async (res) => {
      const body = (await res.json()) as { data?: { b64_json?: unknown; url?: unknown }[] };
      // A url is the backend's text: one that is not an image's address (javascript:, …) is no image.
      const out = (body.data ?? [])
        .map((d) => (typeof d.b64_json === "string" && d.b64_json ? `data:${mimeOf(d.b64_json)};base64,${d.b64_json}` : typeof d.url === "string" ? safeMediaUrl(d.url, location.href) : null))
        .filter((u): u is string => u !== null);
      if (out.length === 0) throw new Error("the answer holds no image");
      const alt = prompt.value.trim();
      images.value = out.map((src, i) => ({ src, alt: `Generated image ${i + 1} of ${out.length}: ${alt}` }));
    },
  );
}

/** The images tab. */
export function ImagesTab() {
  const { id: model } = useTabModel("images", "images");
  const busy = run.busy.value;
  return (
    <MediaTab
      tab="images"
      cap="images"
      testId="pg-images-tab"
      run={run}
      sendLabel="Generate"
      ready={prompt.value.trim() !== ""}
      onSend={(m) => void generate(m)}
      fields={
        <>
          <label for="pg-image-prompt">Prompt</label>
          <textarea
            id="pg-image-prompt"
            data-testid="pg-prompt"
            rows={3}
            value={prompt.value}
            placeholder="A lighthouse on a cliff at dusk (Ctrl+Enter generates)"
            onInput={(e) => (prompt.value = (e.target as HTMLTextAreaElement).value)}
            onKeyDown={(e) => {
              if (e.key === "Enter" && (e.ctrlKey || e.metaKey)) {
                e.preventDefault();
                void generate(model);
              }
            }}
          />
        </>
      }
      options={
        <>
          <label for="pg-image-size">Size</label>
          <select id="pg-image-size" data-testid="pg-image-size" value={size.value} onChange={(e) => (size.value = (e.target as HTMLSelectElement).value)}>
            {["256x256", "512x512", "768x768", "1024x1024", "1024x768", "768x1024"].map((v) => (
              <option value={v}>{v}</option>
            ))}
          </select>
          <label for="pg-image-n">Images</label>
          <input id="pg-image-n" data-testid="pg-image-n" type="number" min={1} max={4} style={{ width: "4.5em" }} value={count.value} onInput={(e) => (count.value = Math.min(4, Math.max(1, Number((e.target as HTMLInputElement).value) || 1)))} />
        </>
      }
    >
      {images.value.length > 0 && (
        <div class="pg-images" data-testid="pg-images">
          {images.value.map(({ src, alt }, i) => (
            <figure>
              <img src={src} alt={alt} data-testid="pg-image" />
              <figcaption>
                <a href={src} download={`image-${i + 1}.${src.startsWith("data:image/jpeg") ? "jpg" : "png"}`}>
                  Download
                </a>
              </figcaption>
            </figure>
          ))}
        </div>
      )}
      {!busy && run.tookMs.value !== null && !run.error.value && <small class="muted">took {ms(run.tookMs.value)}</small>}
    </MediaTab>
  );
}
