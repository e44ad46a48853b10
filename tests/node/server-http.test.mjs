// HTTP as the clients people use speak it: Node's http with its default
// (keep-alive) agent, with and without "Connection: close"; node-fetch 3,
// the HTTP client of the official Engine.IO / Socket.IO suites; Node's own
// fetch (undici); ws; curl; and raw HTTP/1.0 and pipelined HTTP/1.1, as
// reverse proxies send them. Every client gets every answer from
// gst-mesh-server, as it does from the seed's Node server, which runs
// beside it as the baseline when this suite runs in the test namespace
// (port 4000 free).
//
// The bug this guards: libsoup 3.2 closes the connection after a request
// with "Connection: close" but did not say so in the response, so pooling
// clients sent their next request into a closing socket ("socket hang
// up", half of 300 handshakes).

import { test, describe, before, after } from "node:test";
import assert from "node:assert/strict";
import http from "node:http";
import net from "node:net";
import { spawn, execFile } from "node:child_process";
import { promisify } from "node:util";
import path from "node:path";
import { fileURLToPath } from "node:url";
import fetchNode from "node-fetch";
import { WebSocket } from "ws";
import { startServer, sleep } from "./server-helpers.mjs";

const here = path.dirname(fileURLToPath(import.meta.url));
const execFileP = promisify(execFile);
const HANDSHAKE = "/socket.io/?EIO=4&transport=polling";
const N = 300;

// The seed's server.ts listens on 4000, fixed: start it only where that
// port is free (the test namespace), else run against ours alone.
async function startSeed() {
  const free = await new Promise((r) => {
    const s = net.createServer().once("error", () => r(false));
    s.listen(4000, "127.0.0.1", () => s.close(() => r(true)));
  });
  if (!free) return null;
  const proc = spawn(process.execPath, ["--import", "tsx", "seed/server.ts"], {
    cwd: path.join(here, ".."),
    stdio: ["ignore", "pipe", "pipe"],
  });
  let out = "";
  proc.stdout.on("data", (d) => (out += d));
  proc.stderr.on("data", (d) => (out += d));
  const exited = new Promise((r) => proc.on("exit", r));
  for (let i = 0; i < 300 && !/4000/.test(out); i++) await sleep(50);
  if (!/4000/.test(out)) {
    proc.kill("SIGKILL");
    throw new Error(`seed server did not start:\n${out}`);
  }
  return {
    url: "http://127.0.0.1:4000",
    async stop() {
      proc.kill("SIGTERM");
      await exited;
    },
  };
}

// Runs fn N times in a row; resolves to the errors, each with its index.
async function repeat(n, fn) {
  const errors = [];
  for (let i = 0; i < n; i++) {
    try {
      await fn(i);
    } catch (e) {
      errors.push(`#${i}: ${e.message}`);
    }
  }
  return errors;
}

function httpGet(base, headers = {}, agent = undefined) {
  const u = new URL(base + HANDSHAKE);
  return new Promise((resolve, reject) => {
    const req = http.get({ host: u.hostname, port: u.port, path: u.pathname + u.search, headers, agent }, (res) => {
      let body = "";
      res.setEncoding("utf8");
      res.on("data", (d) => (body += d));
      res.on("end", () => resolve({ res, body }));
    });
    req.on("error", reject);
  });
}

function assertOpen(body) {
  assert.match(body, /^0\{"sid":"/, `not an open packet: ${body.slice(0, 80)}`);
}

// Raw bytes out, everything the server sends until it closes or goes
// quiet for 500 ms.
function raw(base, chunks, { gapMs = 0 } = {}) {
  const u = new URL(base);
  return new Promise((resolve, reject) => {
    const sock = net.connect(Number(u.port), u.hostname);
    let data = "";
    let timer;
    const quiet = () => {
      clearTimeout(timer);
      timer = setTimeout(() => {
        sock.destroy();
        resolve({ data, closed: false });
      }, 500);
    };
    sock.setEncoding("latin1");
    sock.on("data", (d) => {
      data += d;
      quiet();
    });
    sock.on("end", () => {
      clearTimeout(timer);
      resolve({ data, closed: true });
    });
    sock.on("error", reject);
    sock.on("connect", async () => {
      for (const c of chunks) {
        sock.write(c);
        if (gapMs) await sleep(gapMs);
      }
      quiet();
    });
  });
}

const get10 = (ver, extra = "") => `GET ${HANDSHAKE} HTTP/${ver}\r\nHost: localhost\r\n${extra}\r\n`;
const responses = (data) => data.split(/(?=HTTP\/1\.[01] \d{3} )/).filter((r) => /^HTTP\//.test(r));
const header = (resp, name) => {
  const m = resp.match(new RegExp(`\\r\\n${name}: ([^\\r]*)`, "i"));
  return m ? m[1] : null;
};

const targets = [];

describe("HTTP clients", () => {
  before(async () => {
    const ours = await startServer("gst-mesh-server", ["--port", "0", "--address", "127.0.0.1"]);
    targets.push(["gst-mesh-server", ours]);
    const seed = await startSeed();
    if (seed) targets.push(["seed server", seed]);
    else console.log("# port 4000 taken: the seed server baseline is skipped");
    console.log(`# targets: ${targets.map(([n]) => n).join(", ")}`);
  });
  after(async () => {
    for (const [, t] of targets) await t.stop();
  });

  test(`Node http, default agent, "Connection: close": ${N} handshakes, none lost`, async () => {
    for (const [name, t] of targets) {
      const errors = await repeat(N, async () => {
        const { res, body } = await httpGet(t.url, { connection: "close" });
        assert.equal(res.statusCode, 200);
        assertOpen(body);
      });
      assert.deepEqual(errors, [], `${name}: ${errors.length}/${N} failed`);
    }
    // and ours says it closes
    const { res } = await httpGet(targets[0][1].url, { connection: "close" });
    assert.equal(res.headers.connection, "close");
  });

  test(`Node http, keep-alive agent: ${N} handshakes on reused connections`, async () => {
    for (const [name, t] of targets) {
      const agent = new http.Agent({ keepAlive: true, maxSockets: 1 });
      const sockets = new Set();
      const errors = await repeat(N, async () => {
        const { res, body } = await httpGet(t.url, {}, agent);
        sockets.add(res.socket);
        assert.equal(res.statusCode, 200);
        assertOpen(body);
      });
      agent.destroy();
      assert.deepEqual(errors, [], `${name}: ${errors.length}/${N} failed`);
      assert.ok(sockets.size < N / 10, `${name}: keep-alive not honoured (${sockets.size} connections for ${N} requests)`);
    }
  });

  test(`node-fetch 3 (the official suites' client): ${N} handshakes`, async () => {
    for (const [name, t] of targets) {
      const errors = await repeat(N, async () => {
        const r = await fetchNode(t.url + HANDSHAKE);
        assert.equal(r.status, 200);
        assertOpen(await r.text());
      });
      assert.deepEqual(errors, [], `${name}: ${errors.length}/${N} failed`);
    }
  });

  test(`Node's fetch (undici): ${N} handshakes, and a whole polling session`, async () => {
    for (const [name, t] of targets) {
      const errors = await repeat(N, async () => {
        const r = await fetch(t.url + HANDSHAKE);
        assert.equal(r.status, 200);
        assertOpen(await r.text());
      });
      assert.deepEqual(errors, [], `${name}: ${errors.length}/${N} failed`);
      // handshake, CONNECT by POST, the CONNECT reply by GET
      const open = await (await fetch(t.url + HANDSHAKE)).text();
      const sid = JSON.parse(open.slice(1)).sid;
      const post = await fetch(`${t.url}${HANDSHAKE}&sid=${sid}`, { method: "POST", body: "40" });
      assert.equal(await post.text(), "ok");
      const reply = await (await fetch(`${t.url}${HANDSHAKE}&sid=${sid}`)).text();
      assert.match(reply, /^40\{"sid":"/, `${name}: ${reply}`);
    }
  });

  test("ws: 50 WebSocket handshakes and Socket.IO connects", async () => {
    for (const [name, t] of targets) {
      const errors = await repeat(50, async () => {
        const ws = new WebSocket(t.url.replace("http", "ws") + "/socket.io/?EIO=4&transport=websocket");
        const got = [];
        await new Promise((resolve, reject) => {
          const timer = setTimeout(() => reject(new Error(`no CONNECT reply, got ${JSON.stringify(got)}`)), 5000);
          ws.on("message", (d) => {
            got.push(String(d));
            if (got.length === 1) ws.send("40");
            if (String(d).startsWith("40")) {
              clearTimeout(timer);
              resolve();
            }
          });
          ws.on("error", reject);
        });
        ws.close();
      });
      assert.deepEqual(errors, [], `${name}: ${errors.length}/50 failed`);
    }
  });

  test("curl, HTTP/1.1 and HTTP/1.0: answered, and told when the connection closes", async () => {
    for (const [name, t] of targets) {
      for (const args of [[], ["--http1.0"], ["-H", "Connection: close"]]) {
        const errors = await repeat(20, async () => {
          const { stdout } = await execFileP("curl", ["-sS", "-i", "--max-time", "5", ...args, t.url + HANDSHAKE]);
          assert.match(stdout, /^HTTP\/1\.[01] 200/);
          assertOpen(stdout.split("\r\n\r\n")[1]);
        });
        assert.deepEqual(errors, [], `${name} curl ${args.join(" ")}: ${errors.length}/20 failed`);
      }
    }
    const { stdout } = await execFileP("curl", ["-sS", "-i", "--http1.0", targets[0][1].url + HANDSHAKE]);
    assert.match(stdout, /\r\nConnection: close\r\n/i, "HTTP/1.0 response without Connection: close");
  });

  test("raw HTTP/1.0 (a proxy's default): answered, closed, and says so", async () => {
    const { data, closed } = await raw(targets[0][1].url, [get10("1.0")]);
    const r = responses(data);
    assert.equal(r.length, 1);
    assert.match(r[0], /^HTTP\/1\.[01] 200/);
    assert.equal(header(r[0], "Connection")?.toLowerCase(), "close");
    assert.ok(closed, "the connection was not closed");
  });

  test("raw HTTP/1.0 with keep-alive: two requests on one connection", async () => {
    const { data } = await raw(targets[0][1].url, [get10("1.0", "Connection: keep-alive\r\n"), get10("1.0", "Connection: keep-alive\r\n")], { gapMs: 100 });
    const r = responses(data);
    assert.equal(r.length, 2, data);
    for (const x of r) assert.equal(header(x, "Connection")?.toLowerCase(), "keep-alive");
  });

  test("pipelined HTTP/1.1: three requests in one write, three answers in order", async () => {
    for (const [name, t] of targets) {
      const { data } = await raw(t.url, [get10("1.1").repeat(2) + get10("1.1", "Connection: close\r\n")]);
      const r = responses(data);
      assert.equal(r.length, 3, `${name}: ${r.length} answers`);
      const sids = r.map((x) => JSON.parse(x.split("\r\n\r\n")[1].slice(1)).sid);
      assert.equal(new Set(sids).size, 3, `${name}: ${sids}`);
    }
  });
});
