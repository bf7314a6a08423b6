/** The Activity page: totals, the requests in flight, charts, and the paged, filterable table of finished requests. */
import { useMemo, useState } from "preact/hooks";
import { num } from "../lib/format.ts";
import { ActivityCharts } from "./activity-charts.tsx";
import { CaptureDialog } from "./activity-capture.tsx";
import { clientFilter, storedFilters, storeFilters, type Filters } from "./activity-data.ts";
import { ExportButtons, FilterBar } from "./activity-filters.tsx";
import { InflightTable } from "./activity-inflight.tsx";
import { useActivityData, WINDOW } from "./activity-load.ts";
import { ActivityStats } from "./activity-stats.tsx";
import { ActivityTable, Pager } from "./activity-table.tsx";

/** The whole Activity page (`#/activity`). */
export function ActivityPage(_props: { id?: string } = {}) {
  const [filters, setFilters] = useState<Filters>(storedFilters);
  const [page, setPage] = useState(1);
  const [limit, setLimit] = useState(25);
  const [capture, setCapture] = useState<number | null>(null);
  const { data, error, reload } = useActivityData(filters, page, limit, () => setPage(1));

  // The records the charts, per-model speeds and exports cover: the newest that pass every filter.
  const filtered = useMemo(() => clientFilter(data?.window ?? [], filters), [data?.window, filters.outcome]);

  // Without an outcome filter the API pages; with one (the API has none), this side does.
  const rows = data?.page ? data.page.data : filtered.slice((page - 1) * limit, page * limit);
  const total = data?.page ? data.page.total : filtered.length;
  const pages = data?.page ? data.page.total_pages : Math.ceil(filtered.length / limit);

  const change = (f: Filters): void => {
    setFilters(f);
    setPage(1);
    storeFilters(f);
  };

  return (
    <>
      <h1>Activity</h1>
      {error && (
        <p role="alert" class="card" style={{ color: "var(--bad)" }}>
          Could not read activity: {error}
        </p>
      )}
      <section class="card row" aria-label="Filters and export">
        <FilterBar filters={filters} onChange={change} onRefresh={reload} />
        <span class="spacer" />
        <ExportButtons records={filtered} />
        {data && data.windowTotal > WINDOW && (
          <p class="muted" style={{ margin: 0, flexBasis: "100%" }}>
            Charts, speeds{filters.outcome ? ", the outcome filter" : ""} and exports cover the newest {num(WINDOW)} of {num(data.windowTotal)} matching records.
          </p>
        )}
      </section>
      <ActivityStats stats={data?.stats ?? null} records={filtered} model={filters.model} />
      <InflightTable />
      <ActivityCharts records={filtered} />
      <section class="card" aria-labelledby="records-title">
        <h2 id="records-title" style={{ marginTop: 0 }}>
          Finished requests
        </h2>
        <ActivityTable records={rows} loading={data === null && !error} onCapture={setCapture} />
        <Pager
          page={page}
          pages={pages}
          total={total}
          limit={limit}
          onPage={setPage}
          onLimit={(n) => {
            setLimit(n);
            setPage(1);
          }}
        />
      </section>
      {capture !== null && <CaptureDialog id={capture} onClose={() => setCapture(null)} />}
    </>
  );
}
