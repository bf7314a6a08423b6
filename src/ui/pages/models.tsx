/** (being written) */
export function ModelsPage(_props: { id?: string } = {}) {
  return <p>…</p>;
}
