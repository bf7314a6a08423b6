/** (being written) */
export function ConfigPage(_props: { id?: string } = {}) {
  return <p>…</p>;
}
