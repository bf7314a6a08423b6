/** (being written) */
export function PerformancePage(_props: { id?: string } = {}) {
  return <p>…</p>;
}
