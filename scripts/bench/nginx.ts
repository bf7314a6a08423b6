/** nginx as a plain reverse proxy, for comparison; optional (skipped with a hint when absent). */
import { existsSync, mkdirSync, mkdtempSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { freePort } from "./ports.ts";
import { spawnServer } from "./switchyard.ts";

/** Printed when nginx is not installed. */
export const NGINX_HINT = "nginx is not installed, so it is left out; to include it: sudo apt-get install nginx";

/** The nginx binary, or null. */
export function findNginx(): string | null {
  const onPath = Bun.which("nginx");
  if (onPath) return onPath;
  // Debian installs it in /usr/sbin, which is not on an ordinary user's PATH.
  for (const p of ["/usr/sbin/nginx", "/usr/local/sbin/nginx", "/usr/local/nginx/sbin/nginx"]) if (existsSync(p)) return p;
  return null;
}

/** A running nginx in front of one upstream. */
export interface Nginx {
  url: string;
  pid: number;
  stop(): Promise<void>;
}

/** The configuration: one worker (switchyard's JS runs on one thread), upstream keep-alive, no buffering. */
export function nginxConfig(dir: string, listenPort: number, upstreamPort: number, asRoot: boolean): string {
  return `${asRoot ? "user root;\n" : ""}worker_processes 1;
daemon off;
pid ${dir}/nginx.pid;
error_log ${dir}/error.log warn;
events { worker_connections 4096; }
http {
  access_log off;
  client_body_temp_path ${dir}/tmp/body;
  proxy_temp_path ${dir}/tmp/proxy;
  fastcgi_temp_path ${dir}/tmp/fastcgi;
  uwsgi_temp_path ${dir}/tmp/uwsgi;
  scgi_temp_path ${dir}/tmp/scgi;
  keepalive_requests 1000000;
  upstream backend {
    server 127.0.0.1:${upstreamPort};
    keepalive 512;
    keepalive_requests 1000000;
  }
  server {
    listen 127.0.0.1:${listenPort};
    location / {
      proxy_pass http://backend;
      proxy_http_version 1.1;
      proxy_set_header Connection "";
      proxy_buffering off;
      proxy_request_buffering off;
      proxy_read_timeout 600s;
    }
  }
}
`;
}

/** Start nginx in front of 127.0.0.1:`upstreamPort`; resolves once it forwards /health. */
export async function startNginx(bin: string, upstreamPort: number): Promise<Nginx> {
  const dir = mkdtempSync(join(tmpdir(), "switchyard-bench-nginx-"));
  mkdirSync(join(dir, "tmp"));
  const port = freePort();
  const asRoot = process.getuid?.() === 0;
  writeFileSync(join(dir, "nginx.conf"), nginxConfig(dir, port, upstreamPort, asRoot));
  const url = `http://127.0.0.1:${port}`;
  // -e: the error log before the config is read (the default /var/log path needs root).
  const server = await spawnServer([bin, "-p", dir, "-c", join(dir, "nginx.conf"), "-e", join(dir, "error.log")], dir, `${url}/health`, 10_000);
  return {
    url,
    pid: server.proc.pid,
    stop: () => server.stop(),
  };
}
