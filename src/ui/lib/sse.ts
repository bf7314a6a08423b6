/**
 * Server-sent events over fetch (EventSource cannot send an Authorization header): yields each
 * event's `data` text as it arrives.
 */

/** Read `res`'s event stream; calls `onData` per event until the stream ends or `signal` aborts. */
export async function readSse(res: Response, onData: (data: string, event: string) => void, signal?: AbortSignal): Promise<void> {
  const reader = res.body!.getReader();
  const decoder = new TextDecoder();
  let buf = "";
  const onAbort = (): void => void reader.cancel().catch(() => {});
  signal?.addEventListener("abort", onAbort, { once: true });
  try {
    for (;;) {
      const { done, value } = await reader.read();
      if (done) return;
      buf += decoder.decode(value, { stream: true }).replace(/\r\n?/g, "\n");
      let end: number;
      while ((end = buf.indexOf("\n\n")) !== -1) {
        const block = buf.slice(0, end);
        buf = buf.slice(end + 2);
        let event = "message";
        const data: string[] = [];
        for (const line of block.split("\n")) {
          if (line.startsWith("data:")) data.push(line.slice(line[5] === " " ? 6 : 5));
          else if (line.startsWith("event:")) event = line.slice(6).trim();
        }
        if (data.length > 0) onData(data.join("\n"), event);
      }
    }
  } finally {
    signal?.removeEventListener("abort", onAbort);
  }
}
