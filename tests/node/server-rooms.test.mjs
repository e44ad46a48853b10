// Mesh rooms (docs/protocol.md section 4) on both servers that implement them:
// gst-mesh-server (C) and the Node reference examples/rooms-server, driven
// by the official socket.io-client. join / leave with their acks,
// peer-joined / peer-left, offer / answer / candidate routed by `to` with a
// `from` the server sets, errors for peers outside the room, and the seed's
// broadcast kept for messages without `to` and clients that never join.
//
// Run: node --test tests/node/server-rooms.test.mjs

import { after, before, describe, it } from "node:test";
import assert from "node:assert/strict";
import { io } from "socket.io-client";
import { sleep, startRoomsReference, startServer } from "./server-helpers.mjs";

const servers = {
  "gst-mesh-server": () => startServer("gst-mesh-server", ["--port", "0", "--address", "127.0.0.1"]),
  "Node reference (examples/rooms-server)": () => startRoomsReference(),
};

const SEED_EVENTS = ["offer", "answer", "candidate"];
const offer = (extra = {}) => ({ type: "offer", sdp: "v=0\r\no=- 1 2 IN IP4 127.0.0.1\r\n", ...extra });
const answer = (extra = {}) => ({ type: "answer", sdp: "v=0\r\no=- 3 4 IN IP4 127.0.0.1\r\n", ...extra });
const candidate = (extra = {}) => ({ candidate: "candidate:1 1 udp 1 10.0.0.1 5000 typ host", sdpMid: "0", sdpMLineIndex: 0, ...extra });

let roomCounter = 0;
const newRoom = () => `room-${process.pid}-${++roomCounter}`;

for (const [serverName, start] of Object.entries(servers)) {
  describe(serverName, () => {
    let server;
    let clients = [];
    before(async () => {
      server = await start();
    });
    after(async () => {
      for (const c of clients) c.close();
      const r = await server.stop();
      if (!process.env.GST_MESH_TARGET_URL) assert.equal(r.code, 0, `server exit: ${JSON.stringify(r)}\n${server.output()}`);
    });

    // A connected client that records every event it gets, in order.
    async function connect({ transports = ["websocket"] } = {}) {
      const s = io(server.url, { transports, forceNew: true, reconnection: false });
      s.log = [];
      s.onAny((event, ...args) => s.log.push([event, ...args]));
      clients.push(s);
      await new Promise((resolve, reject) => {
        const t = setTimeout(() => reject(new Error("no connect")), 5000);
        s.once("connect", () => {
          clearTimeout(t);
          resolve();
        });
        s.once("connect_error", (e) => reject(e));
      });
      return s;
    }
    async function closeAll() {
      for (const c of clients) c.close();
      clients = [];
      await sleep(50);
    }
    const join = (s, room) => s.timeout(3000).emitWithAck("join", { room });
    const got = (s, event) => s.log.filter(([e]) => e === event).map(([, ...args]) => args);
    // Waits until `s` logged `event` matching `pred`; returns its first arg.
    async function waitFor(s, event, pred = () => true, ms = 3000) {
      const deadline = Date.now() + ms;
      for (;;) {
        const hit = s.log.find(([e, ...args]) => e === event && pred(...args));
        if (hit) return hit[1];
        if (Date.now() > deadline) throw new Error(`${s.id}: no ${event} within ${ms} ms; got ${JSON.stringify(s.log)}`);
        await sleep(10);
      }
    }
    // Lets what is in flight arrive, so "not received" means something.
    const settle = () => sleep(200);

    it("join answers with your id, the room and the peers already there, in join order", async () => {
      const room = newRoom();
      const [a, b, c] = [await connect(), await connect({ transports: ["polling"] }), await connect()];
      assert.deepEqual(await join(a, room), { id: a.id, room, peers: [] });
      assert.deepEqual(await join(b, room), { id: b.id, room, peers: [a.id] });
      assert.deepEqual(await join(c, room), { id: c.id, room, peers: [a.id, b.id] });
      // Joining the room you are in changes nothing and announces nothing.
      assert.deepEqual(await join(b, room), { id: b.id, room, peers: [a.id, c.id] });
      await settle();
      assert.equal(got(a, "peer-joined").length, 2);
      await closeAll();
    });

    it("announces peer-joined to the others in the room, not to the newcomer", async () => {
      const room = newRoom();
      const [a, b, outsider] = [await connect(), await connect(), await connect()];
      await join(a, room);
      await join(b, room);
      assert.deepEqual(await waitFor(a, "peer-joined"), { id: b.id, room });
      await settle();
      assert.deepEqual(got(a, "peer-joined"), [[{ id: b.id, room }]]);
      assert.deepEqual(got(b, "peer-joined"), []);
      assert.deepEqual(got(outsider, "peer-joined"), []);
      await closeAll();
    });

    it("announces peer-left on leave, with a leave ack", async () => {
      const room = newRoom();
      const [a, b] = [await connect(), await connect()];
      await join(a, room);
      await join(b, room);
      assert.deepEqual(await b.timeout(3000).emitWithAck("leave"), { id: b.id, room });
      assert.deepEqual(await waitFor(a, "peer-left"), { id: b.id, room });
      // Not in a room any more: leaving again is harmless.
      assert.deepEqual(await b.timeout(3000).emitWithAck("leave"), { id: b.id, room: null });
      // A leave without an ack works too.
      await join(b, room);
      b.emit("leave");
      await waitFor(a, "peer-left", () => got(a, "peer-left").length === 2);
      const c = await connect();
      assert.deepEqual((await join(c, room)).peers, [a.id]);
      await closeAll();
    });

    it("announces peer-left on disconnect", async () => {
      const room = newRoom();
      const [a, b, c] = [await connect(), await connect({ transports: ["polling", "websocket"] }), await connect()];
      await join(a, room);
      await join(b, room);
      await join(c, room);
      const bId = b.id;
      b.close();
      assert.deepEqual(await waitFor(a, "peer-left"), { id: bId, room });
      assert.deepEqual(await waitFor(c, "peer-left"), { id: bId, room });
      const d = await connect();
      assert.deepEqual((await join(d, room)).peers, [a.id, c.id]);
      await closeAll();
    });

    it("joining another room leaves the first", async () => {
      const [r1, r2] = [newRoom(), newRoom()];
      const [a, b, c] = [await connect(), await connect(), await connect()];
      await join(a, r1);
      await join(c, r2);
      await join(b, r1);
      assert.deepEqual(await join(b, r2), { id: b.id, room: r2, peers: [c.id] });
      assert.deepEqual(await waitFor(a, "peer-left"), { id: b.id, room: r1 });
      assert.deepEqual(await waitFor(c, "peer-joined"), { id: b.id, room: r2 });
      const d = await connect();
      assert.deepEqual((await join(d, r1)).peers, [a.id]);
      await closeAll();
    });

    it("refuses bad room names in the ack", async () => {
      const a = await connect();
      const bad = [
        [{ room: 42 }, /string/],
        [{ room: null }, /string/],
        [{ room: ["x"] }, /string/],
        [{}, /string/],
        ["lobby", /string/],
        [{ room: "" }, /empty/],
        [{ room: "x".repeat(65) }, /64 bytes/],
        [{ room: "é".repeat(33) }, /64 bytes/], // 66 bytes in UTF-8, 33 characters
      ];
      for (const [arg, re] of bad) {
        const reply = await a.timeout(3000).emitWithAck("join", arg);
        assert.deepEqual(Object.keys(reply), ["error"], JSON.stringify(arg));
        assert.match(reply.error, re, JSON.stringify(arg));
      }
      const none = await a.timeout(3000).emitWithAck("join");
      assert.match(none.error, /string/);
      // Refused joins left nobody in a room.
      const room = "x".repeat(64);
      const b = await connect();
      assert.deepEqual(await join(b, room), { id: b.id, room, peers: [] });
      assert.deepEqual(await join(a, "é".repeat(32)), { id: a.id, room: "é".repeat(32), peers: [] });
      await closeAll();
    });

    it("delivers a routed offer, answer, candidate and hangup only to their target, with from set", async () => {
      const room = newRoom();
      const [a, b, c, outsider, other] = [await connect(), await connect(), await connect(), await connect(), await connect()];
      await join(a, room);
      await join(b, room);
      await join(c, room);
      await join(other, newRoom());
      a.emit("offer", offer({ to: b.id }));
      b.emit("answer", answer({ to: a.id }));
      a.emit("candidate", candidate({ to: b.id }));
      c.emit("hangup", { reason: "busy", to: a.id });
      await waitFor(b, "offer");
      await waitFor(a, "answer");
      await waitFor(b, "candidate");
      await waitFor(a, "hangup");
      await settle();
      assert.deepEqual(got(b, "offer"), [[offer({ to: b.id, from: a.id })]]);
      assert.deepEqual(got(a, "answer"), [[answer({ to: a.id, from: b.id })]]);
      assert.deepEqual(got(b, "candidate"), [[candidate({ to: b.id, from: a.id })]]);
      assert.deepEqual(got(a, "hangup"), [[{ reason: "busy", to: a.id, from: c.id }]]);
      for (const s of [b, c, outsider, other]) assert.deepEqual(got(s, "hangup"), [], `hangup leaked to ${s.id}`);
      for (const s of [c, outsider, other])
        for (const ev of SEED_EVENTS) assert.deepEqual(got(s, ev), [], `${ev} leaked`);
      for (const s of [a, b]) assert.deepEqual(got(s, "error"), []);
      await closeAll();
    });

    it("does not let a sender spoof from", async () => {
      const room = newRoom();
      const [a, b, c, loner1, loner2] = [await connect(), await connect(), await connect(), await connect(), await connect()];
      await join(a, room);
      await join(b, room);
      await join(c, room);
      // Routed: from is overwritten.
      a.emit("offer", offer({ to: b.id, from: c.id }));
      assert.equal((await waitFor(b, "offer")).from, a.id);
      // Broadcast by a room member: from is overwritten too.
      a.emit("candidate", candidate({ from: c.id }));
      assert.equal((await waitFor(b, "candidate")).from, a.id);
      // Broadcast by a client in no room that writes a from: overwritten.
      loner1.emit("answer", answer({ from: c.id }));
      assert.equal((await waitFor(loner2, "answer")).from, loner1.id);
      assert.equal((await waitFor(b, "answer")).from, loner1.id);
      await closeAll();
    });

    it("does not deliver to a peer outside your room, and tells you with an error event", async () => {
      const [r1, r2] = [newRoom(), newRoom()];
      const [a, b, c, loner] = [await connect(), await connect(), await connect(), await connect()];
      await join(a, r1);
      await join(b, r1);
      await join(c, r2);
      const cases = [
        [a, "offer", offer({ to: c.id }), c.id], // in another room
        [a, "answer", answer({ to: loner.id }), loner.id], // in no room
        [a, "candidate", candidate({ to: "no-such-socket" }), "no-such-socket"], // unknown
        [a, "offer", offer({ to: a.id }), a.id], // yourself
        [loner, "offer", offer({ to: a.id }), a.id], // sender in no room
      ];
      for (const [sender, event, payload, to] of cases) {
        const before = got(sender, "error").length;
        sender.emit(event, payload);
        await waitFor(sender, "error", () => got(sender, "error").length > before);
        assert.deepEqual(got(sender, "error").at(-1), [{ event, to, message: "no such peer in your room" }]);
      }
      // `to` that is not a string.
      a.emit("offer", offer({ to: 7 }));
      const e = await waitFor(a, "error", (x) => x.to === 7);
      assert.equal(e.event, "offer");
      assert.match(e.message, /string/);
      await settle();
      for (const s of [b, c, loner]) for (const ev of SEED_EVENTS) assert.deepEqual(got(s, ev), [], `${ev} leaked to ${s.id}`);
      await closeAll();
    });

    it("keeps two rooms apart", async () => {
      const [r1, r2] = [newRoom(), newRoom()];
      const [a1, b1, a2, b2] = [await connect(), await connect(), await connect(), await connect()];
      await join(a1, r1);
      await join(a2, r2);
      await join(b1, r1);
      await join(b2, r2);
      a1.emit("offer", offer({ to: b1.id }));
      a2.emit("offer", offer({ to: b2.id }));
      b1.emit("answer", answer({ to: a1.id }));
      b2.emit("answer", answer({ to: a2.id }));
      await waitFor(a1, "answer");
      await waitFor(a2, "answer");
      await settle();
      assert.deepEqual(got(b1, "offer"), [[offer({ to: b1.id, from: a1.id })]]);
      assert.deepEqual(got(b2, "offer"), [[offer({ to: b2.id, from: a2.id })]]);
      assert.deepEqual(got(a1, "answer"), [[answer({ to: a1.id, from: b1.id })]]);
      assert.deepEqual(got(a2, "answer"), [[answer({ to: a2.id, from: b2.id })]]);
      assert.deepEqual(got(a1, "peer-joined"), [[{ id: b1.id, room: r1 }]]);
      assert.deepEqual(got(a2, "peer-joined"), [[{ id: b2.id, room: r2 }]]);
      await closeAll();
    });

    it("broadcasts a message without to to everyone else, as the seed, adding from for room members", async () => {
      const [r1, r2] = [newRoom(), newRoom()];
      const [a, b, c, loner] = [await connect(), await connect(), await connect(), await connect({ transports: ["polling"] })];
      await join(a, r1);
      await join(b, r1);
      await join(c, r2);
      a.emit("offer", offer());
      for (const s of [b, c, loner]) assert.deepEqual(await waitFor(s, "offer"), offer({ from: a.id }));
      await settle();
      assert.deepEqual(got(a, "offer"), []);
      // Only the first argument goes on, as the seed's handler forwards it.
      a.emit("candidate", candidate(), "extra");
      assert.deepEqual(got(b, "candidate").length, 0);
      const cand = await waitFor(b, "candidate");
      assert.deepEqual(got(b, "candidate"), [[candidate({ from: a.id })]]);
      assert.deepEqual(cand, candidate({ from: a.id }));
      await closeAll();
    });

    it("pairs two clients that never join 1:1, payloads unchanged", async () => {
      const [caller, callee] = [await connect(), await connect({ transports: ["polling", "websocket"] })];
      const o = offer({ usernameFragment: "ü✓" });
      caller.emit("offer", o);
      assert.deepEqual(await waitFor(callee, "offer"), o);
      callee.emit("answer", answer());
      assert.deepEqual(await waitFor(caller, "answer"), answer());
      caller.emit("candidate", candidate());
      callee.emit("candidate", candidate({ sdpMid: "1" }));
      assert.deepEqual(await waitFor(callee, "candidate"), candidate());
      assert.deepEqual(await waitFor(caller, "candidate"), candidate({ sdpMid: "1" }));
      // Nothing but the relayed events: no from, no room events.
      await settle();
      assert.deepEqual(caller.log.map(([e]) => e), ["answer", "candidate"]);
      assert.deepEqual(callee.log.map(([e]) => e), ["offer", "candidate"]);
      // No argument, or a non-object, goes on as the seed sends it.
      caller.emit("offer");
      caller.emit("answer", "text");
      assert.deepEqual(await waitFor(callee, "offer", (x) => x === null), null);
      assert.equal(await waitFor(callee, "answer", (x) => x === "text"), "text");
      await closeAll();
    });

    it("sets up a mesh without glare: the newcomer offers to everyone already there", async () => {
      const room = newRoom();
      const peers = [];
      const offersSeen = [];
      for (let i = 0; i < 4; i++) {
        const s = await connect({ transports: i % 2 ? ["polling", "websocket"] : ["websocket"] });
        // Answer every offer, to its sender.
        s.on("offer", (o) => {
          offersSeen.push([o.from, s.id]);
          s.emit("answer", answer({ to: o.from }));
        });
        const { peers: there } = await join(s, room);
        for (const p of there) s.emit("offer", offer({ to: p }));
        peers.push(s);
      }
      // Every pair: exactly one offer, from the later joiner, and one answer back.
      const n = peers.length;
      const deadline = Date.now() + 3000;
      while (offersSeen.length < (n * (n - 1)) / 2 && Date.now() < deadline) await sleep(10);
      await settle();
      const ids = peers.map((p) => p.id);
      const expected = [];
      for (let j = 1; j < n; j++) for (let i = 0; i < j; i++) expected.push([ids[j], ids[i]]);
      assert.deepEqual([...offersSeen].sort(), [...expected].sort());
      for (let j = 1; j < n; j++)
        assert.deepEqual(
          got(peers[j], "answer").map(([a]) => a.from).sort(),
          ids.slice(0, j).sort(),
        );
      assert.deepEqual(got(peers[0], "answer"), []);
      await closeAll();
    });
  });
}

// A server that shuts down says nothing of members leaving: nobody left,
// and members keep their peer connections through a restart (a member's
// uid lets the others find it again under its new id).
for (const [serverName, start] of Object.entries(servers)) {
  describe(`${serverName} shutting down`, () => {
    it("sends no peer-left while it stops", async () => {
      const server = await start();
      const room = newRoom();
      const clients = [];
      for (let i = 0; i < 3; i++) {
        const s = io(server.url, { transports: ["websocket"], forceNew: true, reconnection: false });
        s.log = [];
        s.onAny((event, ...args) => s.log.push([event, ...args]));
        await new Promise((resolve, reject) => {
          s.once("connect", resolve);
          s.once("connect_error", reject);
        });
        await s.timeout(5000).emitWithAck("join", { room, uid: `u${i}` });
        clients.push(s);
      }
      await sleep(100);
      const disconnected = clients.map((s) => new Promise((resolve) => s.once("disconnect", resolve)));
      const r = await server.stop();
      assert.equal(r.code, 0, `server exit: ${JSON.stringify(r)}\n${server.output()}`);
      await Promise.all(disconnected);
      for (const s of clients) {
        assert.deepEqual(s.log.filter(([e]) => e === "peer-left"), [], `client got peer-left on shutdown`);
        s.close();
      }
    });
  });
}
