// gst-mesh-server as a service: /healthz, /metrics (Prometheus text), a
// config file, SIGHUP reloading tokens and origins without dropping
// anyone, X-Forwarded-For only from trusted proxies, and bad HTTP (idle and
// half-open connections, slow-loris headers, oversized headers and bodies)
// answered or cut, counted, while a call already running goes on.
//
// Run: node --test tests/node/server-ops.test.mjs

import { after, before, describe, it } from "node:test";
import assert from "node:assert/strict";
import { mkdtempSync, writeFileSync, appendFileSync } from "node:fs";
import { tmpdir } from "node:os";
import net from "node:net";
import path from "node:path";
import { io } from "socket.io-client";
import { once as onceWithin, sleep, startServer } from "./server-helpers.mjs";

const dir = mkdtempSync(path.join(tmpdir(), "gst-mesh-ops-"));

const once = (s, ev, ms = 5000) => onceWithin(s, ev, ms);

// Parses the Prometheus text format strictly enough to catch a bad line:
// every sample is NAME{LABELS} VALUE, and has a # TYPE before it.
function parseMetrics(text) {
  const samples = new Map();
  const typed = new Set();
  for (const line of text.split("\n")) {
    if (!line) continue;
    const t = line.match(/^# TYPE (\w+) (counter|gauge)$/);
    if (t) {
      typed.add(t[1]);
      continue;
    }
    if (line.startsWith("# HELP ")) continue;
    const m = line.match(/^(\w+)(\{[^}]*\})? ([0-9.eE+-]+)$/);
    assert.ok(m, `not a sample line: ${line}`);
    assert.ok(typed.has(m[1]), `${m[1]} has no # TYPE`);
    samples.set(m[1] + (m[2] ?? ""), Number(m[3]));
  }
  return samples;
}

async function metrics(url) {
  const r = await fetch(`${url}/metrics`);
  assert.equal(r.status, 200);
  assert.match(r.headers.get("content-type"), /^text\/plain; version=0\.0\.4/);
  return parseMetrics(await r.text());
}

// Two seed clients that relay an offer: the call that must go on.
async function callPair(url, opts = {}) {
  const a = io(url, { transports: ["websocket"], forceNew: true, reconnection: false, ...opts });
  const b = io(url, { transports: ["polling"], forceNew: true, reconnection: false, ...opts });
  await Promise.all([once(a, "connect"), once(b, "connect")]);
  return {
    a,
    b,
    async relays(label) {
      const got = once(b, "offer");
      a.emit("offer", { type: "offer", sdp: label });
      const [d] = await got;
      assert.equal(d.sdp, label);
    },
    close() {
      a.close();
      b.close();
    },
  };
}

// Opens a raw connection, sends @data (in pieces every @gapMs if given);
// resolves to what came back and how the connection ended.
function raw(port, data, { pieces = 1, gapMs = 0, waitMs = 8000 } = {}) {
  return new Promise((resolve) => {
    const sock = net.connect(port, "127.0.0.1");
    let got = "";
    const t0 = Date.now();
    const done = (how) => {
      clearTimeout(timer);
      sock.destroy();
      resolve({ got, how, ms: Date.now() - t0 });
    };
    const timer = setTimeout(() => done("open"), waitMs);
    sock.setEncoding("latin1");
    sock.on("data", (d) => (got += d));
    sock.on("end", () => done("closed"));
    sock.on("error", (e) => done(e.code === "ECONNRESET" ? "reset" : e.code));
    sock.on("connect", async () => {
      const size = Math.ceil(data.length / pieces);
      for (let i = 0; i < data.length && !sock.destroyed; i += size) {
        sock.write(data.slice(i, i + size));
        if (gapMs) await sleep(gapMs);
      }
    });
  });
}

describe("health and metrics", () => {
  let server;
  before(async () => {
    server = await startServer("gst-mesh-server", ["--port", "0", "--address", "127.0.0.1", "--metrics", "--allowed-origins", "http://ok.example"]);
  });
  after(async () => assert.equal((await server.stop()).code, 0));

  it("GET /healthz answers 200 ok while serving; other methods are refused", async () => {
    const r = await fetch(`${server.url}/healthz`);
    assert.equal(r.status, 200);
    assert.equal(await r.text(), "ok\n");
    assert.equal((await fetch(`${server.url}/healthz`, { method: "HEAD" })).status, 200);
    assert.equal((await fetch(`${server.url}/healthz`, { method: "DELETE" })).status, 405);
  });

  it("GET /metrics counts clients by transport, relays, refusals, handshake errors and bytes", async () => {
    const before = await metrics(server.url);
    const call = await callPair(server.url);
    await call.relays("m1");
    // an origin that is not allowed, and a bad transport
    assert.equal((await fetch(`${server.url}/socket.io/?EIO=4&transport=polling`, { headers: { origin: "http://evil.example" } })).status, 403);
    assert.equal((await fetch(`${server.url}/socket.io/?EIO=4&transport=carrier-pigeon`)).status, 400);
    // a routed message to nobody
    call.a.emit("offer", { to: "nobody", sdp: "x" });
    await once(call.a, "error");
    const m = await metrics(server.url);
    assert.equal(m.get('gst_mesh_clients{transport="websocket"}'), 1);
    assert.equal(m.get('gst_mesh_clients{transport="polling"}'), 1);
    assert.equal(m.get('gst_mesh_events_relayed_total{event="offer"}') - (before.get('gst_mesh_events_relayed_total{event="offer"}') ?? 0), 2);
    assert.equal(m.get("gst_mesh_event_deliveries_total") - before.get("gst_mesh_event_deliveries_total"), 1);
    assert.equal(m.get('gst_mesh_refused_total{reason="origin"}'), 1);
    assert.equal(m.get('gst_mesh_refused_total{reason="no-such-peer"}'), 1);
    assert.equal(m.get('gst_mesh_handshake_errors_total{code="0",message="Transport unknown"}'), 1);
    assert.ok(m.get("gst_mesh_received_bytes_total") > 0);
    assert.ok(m.get("gst_mesh_sent_bytes_total") > m.get("gst_mesh_received_bytes_total") / 10);
    assert.ok(m.get("gst_mesh_start_time_seconds") > 1.7e9);
    call.close();
  });

  it("rooms and members are gauges", async () => {
    const a = io(server.url, { transports: ["websocket"], forceNew: true, reconnection: false });
    await once(a, "connect");
    const ack = await a.timeout(3000).emitWithAck("join", { room: "r1" });
    assert.ok(!ack.error, JSON.stringify(ack));
    let m = await metrics(server.url);
    assert.equal(m.get("gst_mesh_rooms"), 1);
    assert.equal(m.get("gst_mesh_room_members"), 1);
    a.close();
    await sleep(300);
    m = await metrics(server.url);
    assert.equal(m.get("gst_mesh_rooms"), 0);
  });

  it("without --metrics there is no /metrics", async () => {
    const plain = await startServer("gst-mesh-server", ["--port", "0", "--address", "127.0.0.1"]);
    try {
      assert.equal((await fetch(`${plain.url}/metrics`)).status, 404);
      assert.equal((await fetch(`${plain.url}/healthz`)).status, 200);
    } finally {
      await plain.stop();
    }
  });
});

describe("config file and SIGHUP", () => {
  it("reads options from --config; the command line wins for single values", async () => {
    const conf = path.join(dir, "a.conf");
    writeFileSync(conf, "# a comment\naddress = 127.0.0.1\nport = 1\nmetrics = true\nmax-room-peers = 1\n");
    const s = await startServer("gst-mesh-server", ["--config", conf, "--port", "0"]);
    try {
      assert.equal((await fetch(`${s.url}/metrics`)).status, 200);
      const a = io(s.url, { forceNew: true, reconnection: false });
      const b = io(s.url, { forceNew: true, reconnection: false });
      await Promise.all([once(a, "connect"), once(b, "connect")]);
      assert.ok(!(await a.emitWithAck("join", { room: "x" })).error);
      assert.equal((await b.emitWithAck("join", { room: "x" })).error, "room is full");
      a.close();
      b.close();
    } finally {
      await s.stop();
    }
  });

  it("the config file installed with the service (tools/server.conf) is valid", async () => {
    const shipped = path.join(path.dirname(new URL(import.meta.url).pathname), "..", "..", "tools", "server.conf");
    const s = await startServer("gst-mesh-server", ["--config", shipped, "--port", "0", "--address", "127.0.0.1"]);
    try {
      assert.equal((await fetch(`${s.url}/healthz`)).status, 200);
      assert.equal((await fetch(`${s.url}/metrics`)).status, 200);
    } finally {
      assert.equal((await s.stop()).code, 0);
    }
  });

  it("a bad config line is an error that names the file and line", async () => {
    const conf = path.join(dir, "bad.conf");
    writeFileSync(conf, "port = 0\nthis is not an option\n");
    await assert.rejects(startServer("gst-mesh-server", ["--config", conf]), /bad\.conf:2: "this is not an option" is not "name = value"/);
    writeFileSync(conf, "no-such-option = 1\n");
    await assert.rejects(startServer("gst-mesh-server", ["--config", conf]), /Unknown option --no-such-option/);
  });

  it("SIGHUP reloads auth tokens and origins; connected clients stay", async () => {
    const tokens = path.join(dir, "tokens");
    const conf = path.join(dir, "hup.conf");
    writeFileSync(tokens, "old-token\n");
    writeFileSync(conf, `address = 127.0.0.1\nport = 0\nauth-file = ${tokens}\nallowed-origins = http://a.example\n`);
    const s = await startServer("gst-mesh-server", ["--config", conf]);
    try {
      const call = await callPair(s.url, { auth: { token: "old-token" } });
      const refused = io(s.url, { forceNew: true, reconnection: false, auth: { token: "new-token" } });
      assert.match((await once(refused, "connect_error"))[0].message, /invalid auth token/);
      refused.close();
      assert.equal((await fetch(`${s.url}/socket.io/?EIO=4&transport=polling`, { headers: { origin: "http://b.example" } })).status, 403);

      writeFileSync(tokens, "new-token\n");
      appendFileSync(conf, "allowed-origins = http://b.example\n");
      s.proc.kill("SIGHUP");
      for (let i = 0; i < 50 && !/SIGHUP: reloaded/.test(s.output()); i++) await sleep(100);
      assert.match(s.output(), /SIGHUP: reloaded 1 auth token and 2 allowed origins/);

      const now = io(s.url, { forceNew: true, reconnection: false, auth: { token: "new-token" } });
      await once(now, "connect");
      now.close();
      const old = io(s.url, { forceNew: true, reconnection: false, auth: { token: "old-token" } });
      assert.match((await once(old, "connect_error"))[0].message, /invalid auth token/);
      old.close();
      assert.equal((await fetch(`${s.url}/socket.io/?EIO=4&transport=polling`, { headers: { origin: "http://b.example" } })).status, 200);
      // the clients of before the reload are still connected and relaying
      assert.ok(call.a.connected && call.b.connected);
      await call.relays("after reload");
      call.close();

      // a reload that fails keeps what runs
      writeFileSync(tokens, "# nothing\n");
      s.proc.kill("SIGHUP");
      for (let i = 0; i < 50 && !/SIGHUP: not reloaded/.test(s.output()); i++) await sleep(100);
      assert.match(s.output(), /SIGHUP: not reloaded, keeping the running settings: --auth-file: .*holds no token/);
      const still = io(s.url, { forceNew: true, reconnection: false, auth: { token: "new-token" } });
      await once(still, "connect");
      still.close();

      // so does an unknown name in the config file
      writeFileSync(tokens, "new-token\n");
      appendFileSync(conf, "no-such-option = 1\n");
      s.proc.kill("SIGHUP");
      for (let i = 0; i < 50 && !/Unknown option --no-such-option/.test(s.output()); i++) await sleep(100);
      assert.match(s.output(), /SIGHUP: not reloaded, keeping the running settings: Unknown option --no-such-option=1/);
    } finally {
      assert.equal((await s.stop()).code, 0);
    }
  });
});

describe("client address behind a proxy", () => {
  const connectedFrom = async (s, headers) => {
    const before = s.output().length;
    const r = await fetch(`${s.url}/socket.io/?EIO=4&transport=polling`, { headers });
    assert.equal(r.status, 200);
    const sid = JSON.parse((await r.text()).slice(1)).sid;
    await fetch(`${s.url}/socket.io/?EIO=4&transport=polling&sid=${sid}`, { method: "POST", body: "40" });
    for (let i = 0; i < 50 && !/A user connected/.test(s.output().slice(before)); i++) await sleep(50);
    return s.output().slice(before).match(/A user connected: \S+ \((.*)\)/)[1];
  };

  it("X-Forwarded-For is ignored unless the proxy is trusted", async () => {
    const s = await startServer("gst-mesh-server", ["--port", "0", "--address", "127.0.0.1", "--verbose"]);
    try {
      assert.equal(await connectedFrom(s, { "x-forwarded-for": "198.51.100.7" }), "127.0.0.1");
    } finally {
      await s.stop();
    }
  });

  it("from a trusted proxy, the last untrusted address of X-Forwarded-For is the client", async () => {
    const s = await startServer("gst-mesh-server", ["--port", "0", "--address", "127.0.0.1", "--verbose", "--trusted-proxy", "127.0.0.0/8", "--trusted-proxy", "10.1.2.3"]);
    try {
      assert.equal(await connectedFrom(s, { "x-forwarded-for": "198.51.100.7" }), "198.51.100.7");
      // a forged first entry is not believed: the proxy appended the real one
      assert.equal(await connectedFrom(s, { "x-forwarded-for": "1.2.3.4, 198.51.100.8, 10.1.2.3" }), "198.51.100.8");
      // garbage: the proxy's own address
      assert.equal(await connectedFrom(s, { "x-forwarded-for": "not-an-address" }), "127.0.0.1");
    } finally {
      await s.stop();
    }
    await assert.rejects(startServer("gst-mesh-server", ["--port", "0", "--trusted-proxy", "proxy.example"]), /--trusted-proxy "proxy.example" is not an IP address or network/);
  });
});

describe("bad HTTP while a call goes on", () => {
  let server, call;
  before(async () => {
    server = await startServer("gst-mesh-server", ["--port", "0", "--address", "127.0.0.1", "--metrics", "--header-timeout", "1500", "--max-payload", "100000"]);
    call = await callPair(server.url);
  });
  after(async () => {
    call.close();
    assert.equal((await server.stop()).code, 0);
  });
  const cut = async (reason) => (await metrics(server.url)).get(`gst_mesh_http_cut_total{reason="${reason}"}`);

  it("a flood of 300 half-open connections is cut at header-timeout; handshakes and the call go on meanwhile", async () => {
    const before = await cut("header-timeout");
    const socks = await Promise.all(
      Array.from({ length: 300 }, (_, i) =>
        new Promise((resolve) => {
          const s = net.connect(server.port, "127.0.0.1", () => {
            if (i % 2) s.write("GET / HTTP/1.1\r\nHost: x\r\n"); // half a request head
            resolve(s);
          });
          s.on("error", () => {});
          s.closedAt = null;
          s.on("close", () => (s.closedAt = Date.now()));
        }),
      ),
    );
    const t0 = Date.now();
    const r = await fetch(`${server.url}/socket.io/?EIO=4&transport=polling`);
    assert.equal(r.status, 200);
    await call.relays("during the flood");
    for (let i = 0; i < 100 && socks.some((s) => !s.closedAt); i++) await sleep(100);
    assert.equal(socks.filter((s) => !s.closedAt).length, 0, "some half-open connections were never cut");
    const first = Math.min(...socks.map((s) => s.closedAt)) - t0;
    assert.ok(first >= 1000, `cut after ${first} ms, before header-timeout`);
    assert.equal((await cut("header-timeout")) - before, 300);
    await call.relays("after the flood");
  });

  it("slow-loris headers (a byte every 100 ms) are cut at header-timeout", async () => {
    const before = await cut("header-timeout");
    const head = "GET /socket.io/?EIO=4&transport=polling HTTP/1.1\r\nHost: x\r\nX-Slow: " + "z".repeat(60) + "\r\n\r\n";
    const r = await raw(server.port, head, { pieces: head.length, gapMs: 100 });
    assert.notEqual(r.how, "open");
    assert.equal(r.got, "", "a slow-loris request was answered");
    assert.ok(r.ms >= 1400 && r.ms < 5000, `cut after ${r.ms} ms`);
    assert.equal((await cut("header-timeout")) - before, 1);
    await call.relays("after slow-loris");
  });

  it("headers over 64 KiB are cut by libsoup; the server goes on", async () => {
    const r = await raw(server.port, `GET / HTTP/1.1\r\nHost: x\r\nX-Big: ${"b".repeat(100000)}\r\n\r\n`);
    assert.ok(r.how === "reset" || r.how === "closed" || r.how === "EPIPE", r.how);
    assert.doesNotMatch(r.got, /^HTTP\/1\.1 200/);
    await call.relays("after big headers");
    assert.equal((await fetch(`${server.url}/healthz`)).status, 200);
  });

  it("a body over max-payload gets 413 before it is read; a huge one is cut when it does not end", async () => {
    const before = await metrics(server.url);
    const r = await fetch(`${server.url}/socket.io/?EIO=4&transport=polling&sid=nope`, { method: "POST", body: "4" + "x".repeat(200000) });
    assert.equal(r.status, 413);
    // 100 MB announced, 10 kB sent: dropped as it comes, cut at header-timeout
    const big = await raw(server.port, "POST /socket.io/?EIO=4&transport=polling&sid=x HTTP/1.1\r\nHost: x\r\nContent-Length: 100000000\r\n\r\n" + "a".repeat(10000));
    assert.notEqual(big.how, "open");
    const m = await metrics(server.url);
    assert.equal(m.get('gst_mesh_http_cut_total{reason="payload-too-large"}') - before.get('gst_mesh_http_cut_total{reason="payload-too-large"}'), 2);
    assert.equal(m.get('gst_mesh_http_cut_total{reason="refused-body-timeout"}') - before.get('gst_mesh_http_cut_total{reason="refused-body-timeout"}'), 1);
    await call.relays("after big bodies");
  });

  it("a body to a static path is refused with 413 and counted", async () => {
    const before = await cut("body-not-allowed");
    const r = await fetch(`${server.url}/index.html`, { method: "POST", body: "x".repeat(5000) });
    assert.equal(r.status, 413);
    assert.equal(await r.text(), "this path takes no request body\n");
    assert.equal((await cut("body-not-allowed")) - before, 1);
    await call.relays("after a static body");
  });
});
