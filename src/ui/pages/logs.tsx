/** (being written) */
export function LogsPage(_props: { id?: string } = {}) {
  return <p>…</p>;
}
