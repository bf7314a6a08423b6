/** (being written) */
export function ModelDetailPage(props: { id: string }) {
  return <p>{props.id}</p>;
}
