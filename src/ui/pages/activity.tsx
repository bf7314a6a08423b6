/** (being written) */
export function ActivityPage(_props: { id?: string } = {}) {
  return <p>…</p>;
}
