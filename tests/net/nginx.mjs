// Debian's nginx as a reverse proxy in front of a test server, started by
// a test on a free port with a config of its own in a temporary directory
// (nothing of /etc/nginx is read, nothing is written outside it), and
// stopped by it.
//
//   const proxy = await startNginx({ upstreamPort, config: "socketio" });
//   proxy.url ... await proxy.stop();
//
// config "default": nginx's defaults, proxy_pass and nothing else (HTTP/1.0
//   to the upstream, no Upgrade: Socket.IO gets long-polling only).
// config "socketio": what Socket.IO's documentation recommends (HTTP/1.1,
//   Upgrade and Connection passed on), plus X-Forwarded-For and Host. This
//   is the configuration README.md documents.

import { spawn } from "node:child_process";
import { mkdtempSync, writeFileSync, readFileSync, rmSync, existsSync } from "node:fs";
import { tmpdir } from "node:os";
import net from "node:net";
import path from "node:path";
import { freePort } from "./redis.mjs";

export const NGINX = process.env.GST_MESH_NGINX ?? "/usr/sbin/nginx";
export const hasNginx = () => existsSync(NGINX);

const sleep = (ms) => new Promise((r) => setTimeout(r, ms));

// bindAddress: the address nginx connects to its upstreams from
// (proxy_bind), so that on one machine the server can tell the proxy
// (say 127.0.0.2) from the clients (127.0.0.1).
// balance: "" (round robin, nginx's default) or an upstream directive such
// as "hash $remote_addr consistent" (sticky sessions for long-polling).
export function nginxConfig({ dir, port, upstreams, kind, bindAddress, balance = "" }) {
  const bind = bindAddress ? `\n      proxy_bind ${bindAddress};` : "";
  const location =
    kind === "socketio"
      ? `
    location / {
      proxy_pass http://gst_mesh;
      proxy_http_version 1.1;
      proxy_set_header Upgrade $http_upgrade;
      proxy_set_header Connection "upgrade";
      proxy_set_header Host $host;
      proxy_set_header X-Forwarded-For $proxy_add_x_forwarded_for;
      proxy_read_timeout 120s;${bind}
    }`
      : `
    location / {
      proxy_pass http://gst_mesh;${bind}
    }`;
  return `daemon off;
master_process off;
worker_processes 1;
pid ${dir}/nginx.pid;
error_log ${dir}/error.log info;
events { worker_connections 1024; }
http {
  access_log ${dir}/access.log;
  client_body_temp_path ${dir}/body;
  proxy_temp_path ${dir}/proxy;
  fastcgi_temp_path ${dir}/fastcgi;
  uwsgi_temp_path ${dir}/uwsgi;
  scgi_temp_path ${dir}/scgi;
  upstream gst_mesh {${balance ? `\n    ${balance};` : ""}
${upstreams.map((u) => `    server ${u};`).join("\n")}
  }
  server {
    listen 127.0.0.1:${port};
${location}
  }
}
`;
}

export async function startNginx({ upstreamPort, upstreams, kind = "socketio", bindAddress, balance }) {
  const dir = mkdtempSync(path.join(tmpdir(), "gst-mesh-nginx-"));
  const port = await freePort();
  const conf = path.join(dir, "nginx.conf");
  writeFileSync(conf, nginxConfig({ dir, port, upstreams: upstreams ?? [`127.0.0.1:${upstreamPort}`], kind, bindAddress, balance }));
  const proc = spawn(NGINX, ["-p", dir, "-c", conf], { stdio: ["ignore", "pipe", "pipe"] });
  let out = "";
  proc.stdout.on("data", (d) => (out += d));
  proc.stderr.on("data", (d) => (out += d));
  const exited = new Promise((r) => proc.on("exit", (code, sig) => r({ code, sig })));
  const errorLog = () => {
    try {
      return readFileSync(path.join(dir, "error.log"), "utf8");
    } catch {
      return "";
    }
  };
  for (let i = 0; ; i++) {
    const up = await new Promise((r) => {
      const s = net.connect(port, "127.0.0.1", () => {
        s.destroy();
        r(true);
      });
      s.on("error", () => r(false));
    });
    if (up) break;
    if (proc.exitCode !== null || i > 100) {
      proc.kill("SIGKILL");
      rmSync(dir, { recursive: true, force: true });
      throw new Error(`nginx did not start:\n${out}\n${errorLog()}`);
    }
    await sleep(50);
  }
  return {
    url: `http://127.0.0.1:${port}`,
    port,
    kind,
    errorLog,
    accessLog: () => readFileSync(path.join(dir, "access.log"), "utf8"),
    async stop() {
      if (proc.exitCode === null && proc.signalCode === null) proc.kill("SIGQUIT");
      const t = setTimeout(() => proc.kill("SIGKILL"), 5000);
      await exited;
      clearTimeout(t);
      rmSync(dir, { recursive: true, force: true });
    },
  };
}
