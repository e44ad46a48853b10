// gst-mesh-server, the seed's signalling server in C: offer / answer /
// candidate go unchanged to every other client (the seed's
// socket.broadcast.emit), other events go nowhere, and the web root is
// served safely.
//
// Run: node --test tests/node/server-signal.test.mjs

import { after, before, describe, it } from "node:test";
import assert from "node:assert/strict";
import { mkdtempSync, writeFileSync, mkdirSync, symlinkSync } from "node:fs";
import { tmpdir } from "node:os";
import net from "node:net";
import path from "node:path";
import { io } from "socket.io-client";
import { once as onceWithin, sleep, startServer } from "./server-helpers.mjs";

let server, root;
before(async () => {
  root = mkdtempSync(path.join(tmpdir(), "gst-mesh-web-"));
  writeFileSync(path.join(root, "index.html"), "<!DOCTYPE html><title>demo</title>");
  mkdirSync(path.join(root, "js"));
  writeFileSync(path.join(root, "js", "socket.io.min.js"), "/* client */");
  writeFileSync(path.join(tmpdir(), "gst-mesh-secret.txt"), "secret");
  symlinkSync(path.join(tmpdir(), "gst-mesh-secret.txt"), path.join(root, "escape.txt"));
  server = await startServer("gst-mesh-server", ["--port", "0", "--address", "127.0.0.1", "--web-root", root, "--verbose"]);
});
after(async () => {
  const r = await server.stop();
  if (!process.env.GST_MESH_TARGET_URL) assert.equal(r.code, 0, `server exit: ${JSON.stringify(r)}\n${server.output()}`);
});

const once = (s, ev, ms = 3000) => onceWithin(s, ev, ms);

describe("relay", () => {
  it("relays offer, answer and candidate to every other client, unchanged", async () => {
    const peers = ["websocket", "polling", "polling"].map((t) =>
      io(server.url, { transports: t === "websocket" ? ["websocket"] : ["polling", "websocket"], forceNew: true, reconnection: false }),
    );
    await Promise.all(peers.map((p) => once(p, "connect")));
    const [a, b, c] = peers;
    const got = { a: [], b: [], c: [] };
    for (const [name, p] of Object.entries({ a, b, c }))
      for (const ev of ["offer", "answer", "candidate", "other"]) p.on(ev, (d) => got[name].push([ev, d]));
    const offer = { type: "offer", sdp: "v=0\r\no=- 1 2 IN IP4 127.0.0.1\r\n" };
    const candidate = { candidate: "candidate:1 1 udp 1 10.0.0.1 5000 typ host", sdpMid: "0", sdpMLineIndex: 0, usernameFragment: "ü✓" };
    a.emit("offer", offer);
    b.emit("answer", { type: "answer", sdp: "v=0\r\n" });
    c.emit("candidate", candidate);
    a.emit("other", 1);
    await sleep(300);
    // Different senders, different transports: compare without order.
    for (const k of Object.keys(got)) got[k].sort((x, y) => x[0].localeCompare(y[0]));
    assert.deepEqual(got.a, [["answer", { type: "answer", sdp: "v=0\r\n" }], ["candidate", candidate]]);
    assert.deepEqual(got.b, [["candidate", candidate], ["offer", offer]]);
    assert.deepEqual(got.c, [["answer", { type: "answer", sdp: "v=0\r\n" }], ["offer", offer]]);
    peers.forEach((p) => p.close());
    await sleep(100);
    assert.match(server.output(), /A user connected: \S+/);
    assert.match(server.output(), /Received offer from: \S+ \(relayed to 2\)/);
    assert.match(server.output(), /User disconnected: \S+/);
  });
});

describe("static files", () => {
  it("serves the web root with content types", async () => {
    let r = await fetch(`${server.url}/`);
    assert.equal(r.status, 200);
    assert.equal(r.headers.get("content-type"), "text/html; charset=utf-8");
    assert.match(await r.text(), /demo/);
    r = await fetch(`${server.url}/js/socket.io.min.js`);
    assert.equal(r.headers.get("content-type"), "text/javascript; charset=utf-8");
  });

  for (const p of ["/../../../etc/passwd", "/%2e%2e/%2e%2e/etc/passwd", "/js/..%2f..%2fetc/passwd", "/escape.txt", "/.hidden", "/nope.html", "/js/%00x"]) {
    it(`refuses ${p}`, async () => {
      const status = await new Promise((resolve) => {
        // Raw request: fetch would normalise the dots away.
        const c = net.connect(server.port, "127.0.0.1", () => c.write(`GET ${p} HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n`));
        let buf = "";
        c.on("data", (d) => (buf += d));
        c.on("close", () => resolve(Number(buf.split(" ")[1])));
        c.on("error", () => resolve(0));
      });
      assert.ok([400, 404].includes(status), `status ${status}`);
    });
  }
});
