#!/usr/bin/env node
// Serves the seed page (tests/seed/public) and forwards /socket.io/ to the
// unchanged seed server, so the page and its signalling share one origin.
//
// Why a proxy: the seed server (server.ts, kept verbatim) listens on port
// 4000 and serves only "/". The page loads /socket.io/socket.io.js and calls
// io() (same origin), so both the client script (served by socket.io itself,
// serveClient defaults to true) and the Engine.IO traffic (polling and the
// WebSocket upgrade) are passed through to the seed server untouched.
//
// Usage: node tests/seed/serve-page.mjs [--port N] [--host H] [--seed URL]
//   --port  0 (default) picks a free port; "LISTENING <port>" is printed first
//   --host  address to bind (default 127.0.0.1: a secure context for
//           getUserMedia, which http://10.x would not be)
//   --seed  where the seed server is (default http://127.0.0.1:4000)

import { createServer, request as httpRequest } from "node:http";
import { connect } from "node:net";
import { readFile } from "node:fs/promises";
import { extname, join, normalize, resolve, sep } from "node:path";
import { fileURLToPath } from "node:url";

const PUBLIC_DIR = fileURLToPath(new URL("./public/", import.meta.url));

const TYPES = {
  ".html": "text/html; charset=utf-8",
  ".css": "text/css; charset=utf-8",
  ".js": "application/javascript; charset=utf-8",
};

async function serveStatic(req, res) {
  const path = decodeURIComponent(new URL(req.url, "http://x").pathname);
  // The page has no icon; answer the browser's automatic request quietly
  // instead of with a 404 that shows up as a console error.
  if (path === "/favicon.ico") {
    res.writeHead(204).end();
    return;
  }
  const rel = normalize(path === "/" ? "/index.html" : path);
  const file = join(PUBLIC_DIR, rel);
  // Refuse anything that escapes public/ (e.g. /../server.ts).
  if (!file.startsWith(PUBLIC_DIR) || file.endsWith(sep)) {
    res.writeHead(404).end("not found\n");
    return;
  }
  try {
    const body = await readFile(file);
    res.writeHead(200, {
      "Content-Type": TYPES[extname(file)] ?? "application/octet-stream",
      "Cache-Control": "no-store",
    });
    res.end(req.method === "HEAD" ? undefined : body);
  } catch {
    res.writeHead(404).end("not found\n");
  }
}

function proxyHttp(seed, req, res) {
  const up = httpRequest(
    {
      host: seed.hostname,
      port: seed.port || 80,
      method: req.method,
      path: req.url,
      headers: req.headers,
    },
    (upRes) => {
      res.writeHead(upRes.statusCode ?? 502, upRes.headers);
      upRes.pipe(res);
    },
  );
  up.on("error", (err) => {
    if (!res.headersSent) res.writeHead(502);
    res.end(`seed server unreachable: ${err.message}\n`);
  });
  req.pipe(up);
}

// WebSocket upgrade: replay the request head to the seed server, then splice
// the two sockets together byte for byte.
function proxyUpgrade(seed, req, socket, head) {
  const up = connect(Number(seed.port || 80), seed.hostname, () => {
    let raw = `${req.method} ${req.url} HTTP/${req.httpVersion}\r\n`;
    for (let i = 0; i < req.rawHeaders.length; i += 2)
      raw += `${req.rawHeaders[i]}: ${req.rawHeaders[i + 1]}\r\n`;
    up.write(raw + "\r\n");
    if (head?.length) up.write(head);
    up.pipe(socket);
    socket.pipe(up);
  });
  up.setNoDelay(true);
  socket.setNoDelay(true);
  const close = () => {
    up.destroy();
    socket.destroy();
  };
  up.on("error", close);
  socket.on("error", close);
  up.on("close", close);
  socket.on("close", close);
}

/**
 * Start the page server. Resolves to {server, port, url, close()}.
 */
export function servePage({
  port = 0,
  host = "127.0.0.1",
  seed = "http://127.0.0.1:4000",
} = {}) {
  const seedUrl = new URL(seed);
  const server = createServer((req, res) => {
    if (req.url.startsWith("/socket.io/")) proxyHttp(seedUrl, req, res);
    else serveStatic(req, res);
  });
  server.on("upgrade", (req, socket, head) => {
    if (req.url.startsWith("/socket.io/")) proxyUpgrade(seedUrl, req, socket, head);
    else socket.destroy();
  });
  return new Promise((resolve, reject) => {
    server.once("error", reject);
    server.listen(port, host, () => {
      const actual = server.address().port;
      resolve({
        server,
        port: actual,
        url: `http://${host}:${actual}/`,
        close: () =>
          new Promise((r) => {
            server.closeAllConnections?.();
            server.close(() => r());
          }),
      });
    });
  });
}

function parseArgs(argv) {
  const opts = {};
  for (let i = 0; i < argv.length; i++) {
    const [k, v] = [argv[i], argv[i + 1]];
    if (k === "--port") (opts.port = Number(v)), i++;
    else if (k === "--host") (opts.host = v), i++;
    else if (k === "--seed") (opts.seed = v), i++;
    else {
      console.error(`usage: serve-page.mjs [--port N] [--host H] [--seed URL] (bad arg: ${k})`);
      process.exit(2);
    }
  }
  return opts;
}

if (process.argv[1] && fileURLToPath(import.meta.url) === resolve(process.argv[1])) {
  const opts = parseArgs(process.argv.slice(2));
  const { port, url } = await servePage(opts);
  console.log(`LISTENING ${port}`);
  console.error(`seed page at ${url} (socket.io -> ${opts.seed ?? "http://127.0.0.1:4000"})`);
  for (const sig of ["SIGINT", "SIGTERM"]) process.on(sig, () => process.exit(0));
}
