/** The playground's rerank tab: a query and documents (one per line) to /v1/rerank, the ranking as a table. */
import { signal } from "@preact/signals";
import { ms, num } from "../lib/format.ts";
import { MediaTab } from "./playground-common.tsx";
import { mediaRun, runRequest } from "./playground-request.ts";

const run = mediaRun();
const query = signal("");
const documents = signal("");
const ranked = signal<{ index: number; score: number; text: string }[] | null>(null);

/** The documents of the textarea: one a line, blank lines left out. */
const docsOf = (text: string): string[] =>
  text
    .split("\n")
    .map((l) => l.trim())
    .filter(Boolean);

async function rerank(model: string): Promise<void> {
  const docs = docsOf(documents.value);
  if (!query.value.trim() || docs.length === 0 || !model) return;
  await runRequest(
    run,
    "/v1/rerank",
    { method: "POST", headers: { "content-type": "application/json" }, body: JSON.stringify({ model, query: query.value.trim(), documents: docs }) },
    async (res) => {
      const body = (await res.json()) as { results?: unknown } | unknown[];
      // llama-server / Jina / Cohere: {results:[{index, relevance_score}]}; TEI: [{index, score}].
      const list = (Array.isArray(body) ? body : Array.isArray(body.results) ? body.results : null) as { index?: number; relevance_score?: number; score?: number }[] | null;
      if (!list) throw new Error("the answer holds no results");
      ranked.value = list
        .filter((r) => typeof r.index === "number")
        .map((r) => ({ index: r.index!, score: Number(r.relevance_score ?? r.score ?? 0), text: docs[r.index!] ?? "" }))
        .sort((a, b) => b.score - a.score);
    },
  );
}

function Results() {
  const rows = ranked.value;
  if (!rows) return null;
  const max = Math.max(...rows.map((r) => Math.abs(r.score)), 1e-9);
  return (
    <div class="table-wrap pg-result">
      <table data-testid="pg-rerank-results">
        <thead>
          <tr>
            <th class="num" style={{ width: "4em" }}>
              Rank
            </th>
            <th class="num" style={{ width: "8em" }}>
              Score
            </th>
            <th class="num" style={{ width: "4em" }}>
              Doc
            </th>
            <th>Document</th>
          </tr>
        </thead>
        <tbody>
          {rows.map((r, i) => (
            <tr data-testid="pg-rerank-row">
              <td class="num">{i + 1}</td>
              <td class="num">
                {num(r.score, 4)}
                <div class="progress" aria-hidden="true" style={{ marginTop: "2px" }}>
                  <div style={{ width: `${Math.max(0, (r.score / max) * 100)}%` }} />
                </div>
              </td>
              <td class="num">{r.index}</td>
              <td>{r.text}</td>
            </tr>
          ))}
        </tbody>
      </table>
      {run.tookMs.value !== null && <small class="muted">took {ms(run.tookMs.value)}</small>}
    </div>
  );
}

/** The rerank tab. */
export function RerankTab() {
  const n = docsOf(documents.value).length;
  return (
    <MediaTab
      tab="rerank"
      cap="rerank"
      testId="pg-rerank-tab"
      run={run}
      sendLabel="Rerank"
      ready={query.value.trim() !== "" && n > 0}
      onSend={(m) => void rerank(m)}
      fields={
        <>
          <label for="pg-query">Query</label>
          <input id="pg-query" data-testid="pg-query" value={query.value} placeholder="What animals live in South America?" onInput={(e) => (query.value = (e.target as HTMLInputElement).value)} />
          <label for="pg-documents">Documents, one per line ({n})</label>
          <textarea id="pg-documents" data-testid="pg-documents" rows={6} value={documents.value} onInput={(e) => (documents.value = (e.target as HTMLTextAreaElement).value)} />
        </>
      }
    >
      <Results />
    </MediaTab>
  );
}
