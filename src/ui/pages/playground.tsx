/** (being written) */
export function PlaygroundPage(_props: { id?: string } = {}) {
  return <p>…</p>;
}
