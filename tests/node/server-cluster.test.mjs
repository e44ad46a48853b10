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
import { spawnSync } from "node:child_process";
import { io } from "socket.io-client";
import { createClient } from "redis";
import { sleep, startRoomsReference, startServer } from "./server-helpers.mjs";
import { startGstPeer } from "../browser/gst-peer.mjs";
import { hasNginx, startNginx } from "../net/nginx.mjs";
import { freePort, startRedis } from "../net/redis.mjs";
import http from "node:http";


// a pipeline's output without its once-a-second status lines
const brief = (p) =>
  p
    .output()
    .split("\n")
    .filter((l) => !/video sent/.test(l))
    .join("\n")
    .slice(-6000);

const cServer = (redis, extra = []) =>
  startServer("gst-mesh-server", ["--port", "0", "--address", "127.0.0.1", "--redis", redis, ...extra], {
    env: { GST_DEBUG: process.env.CLUSTER_DEBUG ?? "meshcluster:2" },
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

// every server of @servers says it is in the cluster
async function joined(servers) {
  for (const s of servers) await until("In the cluster", () => /In the cluster on redis:/.test(s.output()));
}

// the cluster most tests use: two C servers and the Node reference
async function threeNodes(redis, cArgs = [], nodeArgs = []) {
  const servers = [await cServer(redis.url, cArgs), await cServer(redis.url, cArgs), await startRoomsReference([`--redis=${redis.url}`, ...nodeArgs])];
  await joined(servers);
  return servers;
}

// a room pipeline decodes video from @n peers, from its event @from on
const decoding = (p, n, from = 0) => p.waitForRoomVideo(n, 40000, { from });

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
    await joined(servers.slice(0, 2));
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

// Mesh rooms (docs/protocol.md section 4) whose members are on different
// servers: C, C and Node.
describe("a mesh room across the cluster", () => {
  let redis, servers, clients;
  before(async () => {
    redis = await startRedis(await freePort());
    servers = await threeNodes(redis);
    clients = [];
  });
  after(async () => {
    for (const c of clients) c.close();
    for (const s of servers ?? []) await s.stop();
    await redis?.stop();
  });
  const on = async (i) => {
    const c = await connect(servers[i].url);
    clients.push(c);
    return c;
  };
  const join = (c, room, uid) => c.timeout(8000).emitWithAck("join", uid === undefined ? { room } : { room, uid });
  const events = (c, name) => c.got.filter(([e]) => e === name).map(([, d]) => d);

  it("join acks list the members of every server; peer-joined, routed messages and peer-left reach them all", async () => {
    const room = `r-${process.pid}`;
    const [a, b, n] = [await on(0), await on(1), await on(2)];
    const ackA = await join(a, room, "ua");
    assert.deepEqual(ackA.peers, []);
    const ackB = await join(b, room, "ub");
    assert.deepEqual(ackB.peers, [a.id]);
    assert.deepEqual(ackB.uids, { [a.id]: "ua" });
    const ackN = await join(n, room);
    assert.deepEqual(new Set(ackN.peers), new Set([a.id, b.id]), JSON.stringify(ackN));
    assert.deepEqual(ackN.uids, { [a.id]: "ua", [b.id]: "ub" });
    await until("peer-joined everywhere", () => events(a, "peer-joined").length === 2 && events(b, "peer-joined").length === 1);
    assert.deepEqual(events(a, "peer-joined"), [{ id: b.id, room, uid: "ub" }, { id: n.id, room }]);
    assert.deepEqual(events(b, "peer-joined"), [{ id: n.id, room }]);

    // routed by `to`, C -> C, C -> Node, Node -> C, with the server's `from`
    a.emit("offer", { type: "offer", sdp: "a-to-b", to: b.id });
    a.emit("offer", { type: "offer", sdp: "a-to-n", to: n.id });
    n.emit("answer", { type: "answer", sdp: "n-to-a", to: a.id, from: "spoofed" });
    b.emit("candidate", { candidate: "b-to-n", to: n.id });
    await until("the routed messages", () =>
      events(b, "offer").length === 1 && events(n, "offer").length === 1 && events(a, "answer").length === 1 && events(n, "candidate").length === 1);
    assert.deepEqual(events(b, "offer"), [{ type: "offer", sdp: "a-to-b", to: b.id, from: a.id }]);
    assert.deepEqual(events(n, "offer"), [{ type: "offer", sdp: "a-to-n", to: n.id, from: a.id }]);
    assert.deepEqual(events(a, "answer"), [{ type: "answer", sdp: "n-to-a", to: a.id, from: n.id }]);
    assert.deepEqual(events(n, "candidate"), [{ candidate: "b-to-n", to: n.id, from: b.id }]);
    await sleep(200);
    assert.equal(events(a, "offer").length + events(b, "answer").length + events(n, "answer").length, 0, "routed messages went elsewhere");

    // not to a socket outside the room, on another server
    const outsider = await on(1);
    a.emit("offer", { type: "offer", sdp: "x", to: outsider.id });
    n.emit("offer", { type: "offer", sdp: "x", to: outsider.id });
    await until("the errors", () => events(a, "error").length === 1 && events(n, "error").length === 1);
    assert.deepEqual(events(a, "error"), [{ event: "offer", to: outsider.id, message: "no such peer in your room" }]);
    assert.deepEqual(events(n, "error"), [{ event: "offer", to: outsider.id, message: "no such peer in your room" }]);
    assert.equal(events(outsider, "offer").length, 0);

    // peer-left from each server reaches the others
    const bId = b.id; // the client forgets it once closed
    b.close();
    await until("peer-left of b", () => events(a, "peer-left").length === 1 && events(n, "peer-left").length === 1);
    assert.deepEqual(events(n, "peer-left"), [{ id: bId, room, uid: "ub" }]);
    await n.timeout(5000).emitWithAck("leave");
    await until("peer-left of n", () => events(a, "peer-left").length === 2);
    assert.deepEqual(events(a, "peer-left")[1], { id: n.id, room });
    // and the room as a's server sees it now: a alone
    const again = await on(2);
    assert.deepEqual((await join(again, room)).peers, [a.id]);
  });

  // ICE needs an address other than loopback: tools/test.sh runs the
  // suite in its network namespace.
  it("three meshsignal pipelines, one on each server, in one room: each decodes the two others", async () => {
    const peers = servers.map((s, i) => startGstPeer({ server: s.url, room: `media-${process.pid}`, name: `gst-on-${["c1", "c2", "node"][i]}` }));
    try {
      for (const p of peers) await decoding(p, 2);
      for (const p of peers) assert.equal(p.all("warning").length, 0, `${p.name} warned:\n${p.output()}`);
    } catch (e) {
      throw new Error(`${e.message}\n${peers.map((p) => `--- ${p.name}:\n${brief(p)}`).join("\n")}`);
    } finally {
      for (const p of peers) await p.stop();
    }
  });

  it("a uid that joins on another server takes the old member out there", async () => {
    const room = `uid-${process.pid}`;
    const [old, other] = [await on(0), await on(2)];
    const oldId = old.id;
    await join(old, room, "same");
    await join(other, room);
    const fresh = await on(1);
    const ack = await join(fresh, room, "same");
    assert.deepEqual(ack.peers, [other.id], JSON.stringify(ack));
    await until("peer-left of the old member", () => events(other, "peer-left").some((e) => e.id === oldId));
    assert.deepEqual(events(other, "peer-left"), [{ id: oldId, room, uid: "same" }]);
    // and a member on Node's server makes way for one on a C server
    const room2 = `${room}-2`;
    const [nodeOld, watcher] = [await on(2), await on(1)];
    await join(nodeOld, room2, "n-same");
    await join(watcher, room2);
    const cFresh = await on(0);
    const ack2 = await join(cFresh, room2, "n-same");
    assert.deepEqual(ack2.peers, [watcher.id], JSON.stringify(ack2));
    await until("peer-left of Node's old member", () => events(watcher, "peer-left").some((e) => e.id === nodeOld.id));
  });
});

describe("a server of the cluster that dies", () => {
  it("its members leave their rooms for the clients of the other servers", async () => {
    const redis = await startRedis(await freePort());
    const servers = await threeNodes(redis);
    const clients = [];
    try {
      for (const s of servers) clients.push(await connect(s.url));
      const [doomedC, survivor, nodeMember] = clients;
      for (const c of clients) await c.timeout(8000).emitWithAck("join", { room: "mortal", uid: `u-${clients.indexOf(c)}` });
      const doomedId = doomedC.id;
      const t0 = Date.now();
      servers[0].proc.kill("SIGKILL");
      await until("peer-left of the dead server's member", () => survivor.got.some(([e, d]) => e === "peer-left" && d.id === doomedId), 15000).catch((e) => { throw new Error(`${e.message}\n${servers.map((s) => `alive ${s.alive()}: ${s.output()}`).join("\n---\n")}\n${JSON.stringify(survivor.got)}`); });
      const seconds = (Date.now() - t0) / 1000;
      console.log(`a killed server's member left the room for the others ${seconds.toFixed(1)} s later`);
      assert.deepEqual(survivor.got.filter(([e]) => e === "peer-left").map(([, d]) => d), [{ id: doomedId, room: "mortal", uid: "u-0" }]);
      // and the room as the survivors' servers see it
      const late = await connect(servers[1].url);
      clients.push(late);
      const ack = await late.timeout(8000).emitWithAck("join", { room: "mortal" });
      assert.deepEqual(new Set(ack.peers), new Set([survivor.id, nodeMember.id]), JSON.stringify(ack));
    } finally {
      for (const c of clients) c.close();
      for (const s of servers) await s.stop();
      await redis.stop();
    }
  });

  // ICE needs an address other than loopback: tools/test.sh runs the
  // suite in its network namespace.
  it("a meshsignal pipeline given two servers moves to the second when the first dies, and its calls carry on", async () => {
    const redis = await startRedis(await freePort());
    const servers = await threeNodes(redis);
    const room = `failover-${process.pid}`;
    const peers = [
      startGstPeer({ server: `${servers[0].url},${servers[1].url}`, room, name: "gst-failover" }),
      startGstPeer({ server: servers[1].url, room, name: "gst-on-c2" }),
      startGstPeer({ server: servers[2].url, room, name: "gst-on-node" }),
    ];
    try {
      for (const p of peers) await decoding(p, 2);
      const marks = peers.map((p) => p.events.length);
      const t0 = Date.now();
      servers[0].proc.kill("SIGKILL");
      // it finds the second server and is in the room again there
      await peers[0].waitFor((e) => e.type === "signalling" && e.state === "connected" && e.detail.includes(servers[1].url.replace("http://", "")), 30000, {
        from: marks[0],
        what: "a connection to the second server",
      });
      // everyone still decodes everyone
      const moved = (Date.now() - t0) / 1000;
      for (const [i, p] of peers.entries()) await decoding(p, 2, marks[i]);
      console.log(`failover: on the second server ${moved.toFixed(1)} s after the first was killed; ` +
        `everyone decoding everyone (two status lines in a row) ${((Date.now() - t0) / 1000).toFixed(1)} s after`);
    } catch (e) {
      throw new Error(`${e.message}\n${peers.map((p) => `--- ${p.name}:\n${brief(p)}`).join("\n")}`);
    } finally {
      for (const p of peers) await p.stop();
      for (const s of servers) await s.stop();
      await redis.stop();
    }
  });
});

// Long-polling is a series of requests that must all reach the server
// that made the session: behind a load balancer in front of several
// servers, sessions must stick (README: nginx's hash $remote_addr).
describe("long-polling through nginx in front of two servers of a cluster", { skip: !hasNginx() && "nginx is not installed (tools/setup.sh)" }, () => {
  let redis, servers;
  before(async () => {
    redis = await startRedis(await freePort());
    servers = [await cServer(redis.url), await cServer(redis.url)];
    await joined(servers);
  });
  after(async () => {
    for (const s of servers ?? []) await s.stop();
    await redis?.stop();
  });
  const upstreams = () => servers.map((s) => `127.0.0.1:${s.port}`);
  // a polling-only client from its own loopback address
  const pollingClient = (url, host) =>
    io(url, { transports: ["polling"], forceNew: true, reconnection: false, agent: new http.Agent({ localAddress: host }) });

  it("with hash $remote_addr consistent: polling clients from many addresses stay connected and reach each other across the servers", async () => {
    const proxy = await startNginx({ upstreams: upstreams(), kind: "socketio", balance: "hash $remote_addr consistent" });
    const clients = [];
    try {
      const before = servers.map((s) => (s.output().match(/A user connected/g) ?? []).length);
      for (let i = 0; i < 12; i++) {
        const c = pollingClient(proxy.url, `127.0.0.${20 + i}`);
        c.got = [];
        c.onAny((event, ...args) => c.got.push([event, ...args]));
        clients.push(c);
        await new Promise((resolve, reject) => {
          c.once("connect", resolve);
          c.once("connect_error", (e) => reject(new Error(`client ${i}: ${e.message}`)));
        });
      }
      await sleep(1500); // a few polls each
      assert.ok(clients.every((c) => c.connected), "a polling client was dropped");
      const spread = servers.map((s, i) => (s.output().match(/A user connected/g) ?? []).length - before[i]);
      console.log(`sticky polling through nginx: clients per server ${spread}`);
      assert.ok(spread.every((n) => n > 0), `all clients went to one server: ${spread}`);
      await relayAll(clients, clients.map((_, i) => `p${i}`), "sticky");
    } finally {
      for (const c of clients) c.close();
      await proxy.stop();
    }
  });

  it("without it (round robin), a polling session breaks: the next request lands on the other server", async () => {
    const proxy = await startNginx({ upstreams: upstreams(), kind: "socketio" });
    const c = pollingClient(proxy.url, "127.0.0.40");
    try {
      const outcome = await new Promise((resolve) => {
        c.once("connect_error", (e) => resolve(`connect_error: ${e.message}`));
        c.once("disconnect", (reason) => resolve(`disconnect: ${reason}`));
        setTimeout(() => resolve("still connected"), 5000);
      });
      console.log(`round robin polling: ${outcome}`);
      assert.notEqual(outcome, "still connected");
    } finally {
      c.close();
      await proxy.stop();
    }
  });
});

describe("Redis restarted under a room", () => {
  it("the rooms are repaired: peer-left for who left meanwhile, peer-joined with one offerer for each pair that never met", async () => {
    const redisPort = await freePort();
    let redis = await startRedis(redisPort);
    const servers = [await cServer(redis.url), await cServer(redis.url)];
    const clients = [];
    const on = async (i) => {
      const c = await connect(servers[i].url);
      clients.push(c);
      return c;
    };
    const join = (c) => c.timeout(8000).emitWithAck("join", { room: "healing" });
    const events = (c, name) => c.got.filter(([e]) => e === name).map(([, d]) => d);
    try {
      await joined(servers);
      const a = await on(0);
      const b = await on(1);
      await join(a);
      assert.deepEqual((await join(b)).peers, [a.id]);
      await redis.stop();
      for (const s of servers) await until("the unreachable warning", () => /is unreachable/.test(s.output()));
      // cut apart: b leaves, x and y join, each node sees only its own
      const bId = b.id;
      await b.timeout(5000).emitWithAck("leave");
      const x = await on(0);
      const y = await on(1);
      // x's ack also lists b, as C1 last knew the room (the peer-left
      // could not come); its offer to b waits for the cluster to heal
      assert.ok((await join(x)).peers.includes(a.id));
      assert.deepEqual((await join(y)).peers, []);
      redis = await startRedis(redisPort);
      await until("peer-left of b at a", () => events(a, "peer-left").some((e) => e.id === bId), 20000);
      await until("every pair found", () =>
        events(a, "peer-joined").some((e) => e.id === y.id) && events(x, "peer-joined").some((e) => e.id === y.id) &&
        events(y, "peer-joined").filter((e) => e.id === a.id || e.id === x.id).length === 2, 20000);
      // each pair that never met has exactly one offerer
      const offer = (from, to) => events(from, "peer-joined").find((e) => e.id === to.id)?.offer;
      for (const [p, q] of [[a, y], [x, y]]) {
        assert.equal(typeof offer(p, q), "boolean");
        assert.equal(offer(p, q), !offer(q, p), `${p.id} and ${q.id}: ${offer(p, q)} / ${offer(q, p)}`);
        assert.equal(offer(p, q), p.id < q.id);
      }
      // a and x met before the cut: nothing new between them
      assert.ok(!events(x, "peer-joined").some((e) => e.id === a.id && e.offer !== undefined));
    } finally {
      for (const c of clients) c.close();
      for (const s of servers) await s.stop();
      await redis.stop();
    }
  });
});

describe("meshsignal pipelines that joined while the cluster was cut apart", () => {
  // ICE needs an address other than loopback: tools/test.sh runs the
  // suite in its network namespace.
  it("call each other once Redis is back: one of them is told to offer", async () => {
    const redisPort = await freePort();
    let redis = await startRedis(redisPort);
    const servers = [await cServer(redis.url), await cServer(redis.url)];
    const peers = [];
    try {
      await joined(servers);
      await redis.stop();
      for (const s of servers) await until("the unreachable warning", () => /is unreachable/.test(s.output()));
      const room = `split-${process.pid}`;
      peers.push(startGstPeer({ server: servers[0].url, room, name: "gst-split-1" }));
      peers.push(startGstPeer({ server: servers[1].url, room, name: "gst-split-2" }));
      for (const p of peers) await p.waitFor((e) => e.type === "signalling" && e.state === "connected", 20000, { what: "signalling" });
      await sleep(1000);
      redis = await startRedis(redisPort);
      for (const p of peers)
        await p.waitFor((e) => e.type === "first-frame" && e.media === "video", 40000, { what: "video from the other side of the split" });
    } catch (e) {
      throw new Error(`${e.message}\n${peers.map((p) => `--- ${p.name}:\n${brief(p)}`).join("\n")}`);
    } finally {
      for (const p of peers) await p.stop();
      for (const s of servers) await s.stop();
      await redis.stop();
    }
  });
});

describe("max-room-peers in a cluster", () => {
  it("counts the members of every server", async () => {
    const redis = await startRedis(await freePort());
    const servers = await threeNodes(redis, ["--max-room-peers", "2"], ["--max-room-peers=2"]);
    const clients = [];
    try {
      for (const s of servers) clients.push(await connect(s.url));
      const join = (c) => c.timeout(8000).emitWithAck("join", { room: "small" });
      assert.ok((await join(clients[0])).peers);
      assert.ok((await join(clients[2])).peers);
      assert.deepEqual(await join(clients[1]), { error: "room is full", room: "small", max: 2 });
      const fourth = await connect(servers[2].url);
      clients.push(fourth);
      assert.deepEqual(await join(fourth), { error: "room is full", room: "small", max: 2 });
    } finally {
      for (const c of clients) c.close();
      for (const s of servers) await s.stop();
      await redis.stop();
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
      await joined(servers);
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
