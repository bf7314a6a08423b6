/**
 * `switchyard simulate --comfy`: the little of ComfyUI a passthrough test needs. Its page at `/`,
 * `POST /api/prompt` (queues nothing, answers a prompt id), `GET /api/queue`, and on `/ws` the
 * `status` message ComfyUI sends first, carrying the session id (`?clientId=`).
 */

/** What a simulated WebSocket sends as soon as it opens (null: nothing). */
export interface SimSocketData {
  greeting: string | null;
}

const PAGE = `<!doctype html>
<html><head><meta charset="utf-8"><title>ComfyUI (simulated)</title></head>
<body><div id="graph">switchyard simulate --comfy</div><script src="./scripts/app.js"></script></body></html>
`;

let prompts = 0;

/** ComfyUI's answer to this request, or null when it is not one of ComfyUI's routes. */
export async function comfyResponse(req: Request, url: URL): Promise<Response | null> {
  if (req.method === "GET" && url.pathname === "/") return new Response(PAGE, { headers: { "content-type": "text/html; charset=utf-8" } });
  if (req.method === "GET" && url.pathname === "/api/queue") return Response.json({ queue_running: [], queue_pending: [] });
  if (req.method === "POST" && url.pathname === "/api/prompt") {
    let body: unknown;
    try {
      body = JSON.parse(await req.text());
    } catch {
      body = null;
    }
    if (!body || typeof body !== "object" || !("prompt" in body)) {
      return Response.json({ error: { type: "no_prompt", message: "No prompt provided", details: "", extra_info: {} }, node_errors: {} }, { status: 400 });
    }
    return Response.json({ prompt_id: crypto.randomUUID(), number: prompts++, node_errors: {} });
  }
  return null;
}

/** The first message of ComfyUI's `/ws?clientId=…`: an empty queue and the session's id. */
export function comfyGreeting(url: URL): string {
  const sid = url.searchParams.get("clientId") || crypto.randomUUID().replaceAll("-", "");
  return JSON.stringify({ type: "status", data: { status: { exec_info: { queue_remaining: 0 } }, sid } });
}
