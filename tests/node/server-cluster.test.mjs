// A cluster of signalling servers on Redis (docs/protocol.md section 9):
// Debian's redis-server on a test port, two gst-mesh-servers (C) and the
// Node reference examples/rooms-server with the official
// @socket.io/redis-adapter, one official socket.io-client on each. The
// seed's relay reaches the clients of every server, whichever server the
// sender is on; Redis restarted, Redis not there at start, and a malformed
// message on the channel, each without losing the relay.
//
// Run: node --test tests/node/server-cluster.test.mjs

import { after, before, describe, it } from "node:test";
import assert from "node:assert/strict";
import { spawn, spawnSync } from "node:child_process";
import { createServer } from "node:net";
import { io } from "socket.io-client";
import { createClient } from "redis";
import { sleep, startRoomsReference, startServer } from "./server-helpers.mjs";
import { startGstPeer } from "../browser/gst-peer.mjs";

const REDIS_BIN = "/usr/bin/redis-server";

async function freePort() {
  const srv = createServer();
  await new Promise((r) => srv.listen(0, "127.0.0.1", r));
  const { port } = srv.address();
  await new Promise((r) => srv.close(r));
  return port;
}

// redis-server on @port, nothing saved; resolves once it takes commands.
async function startRedis(port) {
  const proc = spawn(REDIS_BIN, ["--port", String(port), "--bind", "127.0.0.1", "--save", "", "--appendonly", "no"], {
    stdio: ["ignore", "pipe", "pipe"],
  });
  let out = "";
  proc.stdout.on("data", (d) => (out += d));
  proc.stderr.on("data", (d) => (out += d));
  const exited = new Promise((r) => proc.on("exit", (code, sig) => r({ code, sig })));
  for (let i = 0; i < 100; i++) {
    if (/Ready to accept connections/.test(out)) break;
    if (proc.exitCode !== null) throw new Error(`redis-server exited:\n${out}`);
    await sleep(50);
  }
  return {
    port,
    url: `redis://127.0.0.1:${port}`,
    output: () => out,
    async stop() {
      if (proc.exitCode === null && proc.signalCode === null) proc.kill("SIGTERM");
      return exited;
    },
  };
}

const cServer = (redis, extra = []) =>
  startServer("gst-mesh-server", ["--port", "0", "--address", "127.0.0.1", "--redis", redis, ...extra], {
    env: { GST_DEBUG: "meshcluster:2" },
  });

async function connect(url) {
  const s = io(url, { transports: ["websocket"], forceNew: true, reconnection: false });
  s.got = [];
  s.onAny((event, ...args) => s.got.push([event, ...args]));
  await new Promise((resolve, reject) => {
    const t = setTimeout(() => reject(new Error(`no connect to ${url}`)), 5000);
    s.once("connect", () => (clearTimeout(t), resolve()));
    s.once("connect_error", (e) => (clearTimeout(t), reject(e)));
  });
  return s;
}

async function until(what, fn, ms = 10000) {
  const end = Date.now() + ms;
  while (Date.now() < end) {
    if (fn()) return;
    await sleep(50);
  }
  throw new Error(`no ${what} after ${ms} ms`);
}

const offerFrom = (name, n) => ({ type: "offer", sdp: `v=0\r\no=- ${n} 2 IN IP4 127.0.0.1\r\ns=${name}\r\n`, n, name, nested: { a: [1, 2.5, null, true], "2": "index key" } });

// Each client sends one offer; each gets every other's, exactly as sent,
// and never its own.
async function relayAll(clients, names, tag) {
  const before = clients.map((c) => c.got.length);
  clients.forEach((c, i) => c.emit("offer", offerFrom(`${tag}-${names[i]}`, i)));
  const mine = (c, i) => c.got.slice(before[i]).filter(([e, d]) => e === "offer" && d?.name?.startsWith(`${tag}-`));
  await until(`${tag}: every offer at every other client`, () => clients.every((c, i) => mine(c, i).length >= clients.length - 1));
  await sleep(200); // and nothing more comes
  clients.forEach((c, i) => {
    const offers = c.got
      .slice(before[i])
      .filter(([e, d]) => e === "offer" && d?.name?.startsWith(`${tag}-`))
      .map(([, d]) => d);
    const want = names.map((n, j) => (j === i ? null : offerFrom(`${tag}-${n}`, j))).filter(Boolean);
    assert.deepEqual(
      offers.sort((a, b) => a.n - b.n),
      want,
      `${names[i]} got ${JSON.stringify(offers.map((o) => o.name))}`,
    );
  });
}

describe("a cluster of two gst-mesh-servers and a Node server with @socket.io/redis-adapter", () => {
  let redis, servers, clients;
  const names = ["c1", "c2", "node"];
  before(async () => {
    redis = await startRedis(await freePort());
    servers = [await cServer(redis.url), await cServer(redis.url), await startRoomsReference([`--redis=${redis.url}`])];
    for (const s of servers.slice(0, 2)) await until("In the cluster", () => /In the cluster on redis:/.test(s.output()));
    clients = [];
    for (const s of servers) clients.push(await connect(s.url));
  });
  after(async () => {
    for (const c of clients ?? []) c.close();
    for (const s of servers ?? []) await s.stop();
    await redis?.stop();
  });

  it("the seed's relay reaches the clients of every server, both ways between C and Node", async () => {
    await relayAll(clients, names, "first");
    // two clients on one server: the second gets the first's offer once,
    // from its own server, not again through Redis
    const twin = await connect(servers[0].url);
    clients.push(twin);
    await relayAll(clients, [...names, "c1-twin"], "twin");
    twin.close();
    clients.pop();
  });

  // Needs an address other than loopback for ICE: tools/test.sh runs the
  // suite in its network namespace.
  it("two meshsignal pipelines on different servers call each other through the cluster", async () => {
    const caller = startGstPeer({ server: servers[0].url, role: "call", name: "gst-on-c1" });
    const waiter = startGstPeer({ server: servers[1].url, role: "wait", name: "gst-on-c2" });
    try {
      for (const p of [caller, waiter])
        await p.waitFor((e) => e.type === "first-frame" && e.media === "video", 30000, { what: "video from the other server's pipeline" });
    } catch (e) {
      throw new Error(`${e.message}\n--- caller:\n${caller.output()}\n--- waiter:\n${waiter.output()}`);
    } finally {
      await caller.stop();
      await waiter.stop();
    }
  });

  it("Redis restarted: the servers say so, reconnect and resubscribe, and the relay goes on", async () => {
    await redis.stop();
    for (const s of servers.slice(0, 2))
      await until("the unreachable warning", () => /Redis at redis:\/\/127\.0\.0\.1:\d+ is unreachable/.test(s.output()));
    // alone meanwhile: two clients of one server still relay to each other
    const twin = await connect(servers[1].url);
    const before = twin.got.length;
    clients[1].emit("offer", offerFrom("alone", 7));
    await until("the offer on the same server", () => twin.got.slice(before).some(([e, d]) => e === "offer" && d.name === "alone"));
    twin.close();
    redis = await startRedis(redis.port);
    for (const s of servers.slice(0, 2))
      await until("back in the cluster", () => (s.output().match(/In the cluster on redis:/g) ?? []).length >= 2, 15000);
    // node-redis reconnects on its own, in its own time
    let ok = false;
    for (let i = 0; i < 20 && !ok; i++) {
      try {
        await relayAll(clients, names, `restart-${i}`);
        ok = true;
      } catch (e) {
        if (i === 19) throw e;
        await sleep(500);
      }
    }
  });
});

// Node's adapter is left out here: a message it cannot parse breaks its
// subscriber (node-redis says "Could not parse" and the Node server relays
// nothing more from the cluster), so the C servers get a key of their own.
describe("malformed messages on the cluster's channel", () => {
  it("each is dropped with a warning that names the channel and what was wrong; the relay goes on", async () => {
    const redis = await startRedis(await freePort());
    const servers = [await cServer(redis.url, ["--redis-key", "bad"]), await cServer(redis.url, ["--redis-key", "bad"])];
    const clients = [];
    try {
      for (const s of servers) await until("In the cluster", () => /In the cluster on redis:/.test(s.output()));
      for (const s of servers) clients.push(await connect(s.url));
      await relayAll(clients, ["c1", "c2"], "before-bad");
      const pub = createClient({ url: redis.url });
      await pub.connect();
      await pub.publish("bad#/#", Buffer.from("c1", "hex")); // no MessagePack value
      await pub.publish("bad#/#", Buffer.from("93a6414141414141", "hex")); // [uid] cut short
      await pub.publish("bad#/#", Buffer.from("a3616263", "hex")); // "abc"
      await pub.publish("bad#/#", Buffer.from([0x93, 0xa6, ...Buffer.from("ZZZZZZ"), 0x81, 0xa4, ...Buffer.from("type"), 0x05, 0x80]));
      await pub.quit();
      for (const s of servers) {
        await until("warnings", () => (s.output().match(/dropped:/g) ?? []).length >= 4);
        assert.match(s.output(), /a message on bad#\/# from the cluster dropped: byte 0xc1 at 0 starts no MessagePack value/);
        assert.match(s.output(), /dropped: MessagePack ends inside a value/);
        assert.match(s.output(), /dropped: not an array \[uid, packet, opts\]/);
        assert.match(s.output(), /dropped: not an event \(packet type 2\)/);
      }
      await relayAll(clients, ["c1", "c2"], "after-bad");
      for (const s of servers) assert.ok(s.alive());
    } finally {
      for (const c of clients) c.close();
      for (const s of servers) await s.stop();
      await redis.stop();
    }
  });
});

describe("gst-mesh-server whose Redis is not there at start", () => {
  it("warns, serves its own clients, and joins the cluster once Redis is up", async () => {
    const port = await freePort();
    const server = await cServer(`redis://127.0.0.1:${port}`);
    const other = await cServer(`redis://127.0.0.1:${port}`);
    let redis;
    const clients = [];
    try {
      await until("the warning", () => /Redis at redis:\/\/127\.0\.0\.1:\d+ is unreachable \(Connection refused\)/.test(server.output()));
      clients.push(await connect(server.url), await connect(server.url));
      await relayAll(clients, ["a", "b"], "alone");
      redis = await startRedis(port);
      for (const s of [server, other]) await until("In the cluster", () => /In the cluster on redis:/.test(s.output()), 15000);
      clients.push(await connect(other.url));
      await relayAll(clients, ["a", "b", "other"], "joined");
      // one warning, not one per retry
      assert.equal((server.output().match(/is unreachable/g) ?? []).length, 1, server.output());
    } finally {
      for (const c of clients) c.close();
      await server.stop();
      await other.stop();
      await redis?.stop();
    }
  });

  it("a bad --redis URL is a usage error that names it", () => {
    const bin = process.env.GST_MESH_GST_MESH_SERVER;
    if (!bin) return;
    for (const [url, words] of [
      ["http://h", /does not start with redis:\/\//],
      ["redis://h:0", /port is not a number from 1 to 65535/],
      ["redis://u:p@h", /passwords .* are not supported/],
      ["redis:///0", /has no host/],
    ]) {
      const r = spawnSync(bin, ["--port", "0", "--redis", url], { encoding: "utf8", timeout: 5000 });
      assert.equal(r.status, 2, `${url}: ${r.stderr}`);
      assert.match(r.stderr, words, url);
    }
  });
});
