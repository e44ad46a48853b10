// The official socket.io-client against our sio-test-server, over WebSocket
// only, polling only, and the default polling → WebSocket upgrade: connect,
// events both ways, acks both ways, binary, namespaces, a refused
// namespace, server-side disconnect, and ping timeout when the client stops
// answering.
//
// Run: node --test tests/node/server-client.test.mjs

import { after, before, describe, it } from "node:test";
import assert from "node:assert/strict";
import { io } from "socket.io-client";
import { sleep, startServer } from "./server-helpers.mjs";

let server;
before(async () => {
  server = await startServer("sio-test-server");
});
after(async () => {
  const r = await server.stop();
  if (!process.env.GST_MESH_TARGET_URL) assert.equal(r.code, 0, `server exit: ${JSON.stringify(r)}\n${server.output()}`);
});

const once = (socket, event, ms = 3000) =>
  new Promise((resolve, reject) => {
    const t = setTimeout(() => reject(new Error(`no "${event}" within ${ms} ms`)), ms);
    socket.once(event, (...args) => {
      clearTimeout(t);
      resolve(args);
    });
  });

const modes = {
  "WebSocket only": { transports: ["websocket"], expect: "websocket" },
  "polling only": { transports: ["polling"], expect: "polling" },
  "polling upgraded to WebSocket": { transports: ["polling", "websocket"], expect: "websocket" },
};

for (const [mode, { transports, expect }] of Object.entries(modes)) {
  describe(mode, () => {
    const connect = async (nsp = "", opts = {}) => {
      const s = io(`${server.url}${nsp}`, { transports, forceNew: true, reconnection: false, ...opts });
      const auth = once(s, "auth");
      await once(s, "connect");
      return { s, auth: (await auth)[0] };
    };

    it("connects and receives its auth payload back", async () => {
      const { s, auth } = await connect("", { auth: { token: "t0k" } });
      assert.deepEqual(auth, { token: "t0k" });
      assert.match(s.id, /^[A-Za-z0-9_-]{20}$/);
      if (s.io.engine.transport.name !== expect) await once(s.io.engine, "upgrade");
      assert.equal(s.io.engine.transport.name, expect);
      s.disconnect();
    });

    it("sends events and receives events", async () => {
      const { s } = await connect();
      const back = once(s, "message-back");
      s.emit("message", 1, "2", { 3: [true] }, null);
      assert.deepEqual(await back, [1, "2", { 3: [true] }, null]);
      s.disconnect();
    });

    it("gets acks for its events", async () => {
      const { s } = await connect();
      const r = await s.timeout(3000).emitWithAck("message-with-ack", "a", { b: [1, 2] });
      assert.deepEqual(r, "a");
      const both = await new Promise((resolve) => s.emit("message-with-ack", 1, 2, (...args) => resolve(args)));
      assert.deepEqual(both, [1, 2]);
      s.disconnect();
    });

    it("acks the server's events", async () => {
      const { s } = await connect();
      s.on("question", (q, ack) => ack({ answer: q.n * 2 }));
      const answer = once(s, "answer-was");
      s.emit("ask", { n: 21 });
      assert.deepEqual(await answer, [{ answer: 42 }]);
      s.disconnect();
    });

    it("sends and receives binary", async () => {
      const { s } = await connect();
      const back = once(s, "message-back");
      s.emit("message", Buffer.from([1, 2, 3]), { nested: Buffer.from([4, 5]) }, "text");
      const [a, b, c] = await back;
      assert.deepEqual(Buffer.from(a), Buffer.from([1, 2, 3]));
      assert.deepEqual(Buffer.from(b.nested), Buffer.from([4, 5]));
      assert.equal(c, "text");
      const acked = await s.timeout(3000).emitWithAck("message-with-ack", Buffer.from([9, 8, 7]));
      assert.deepEqual(Buffer.from(acked), Buffer.from([9, 8, 7]));
      s.disconnect();
    });

    it("connects to a custom namespace on the same connection", async () => {
      const main = io(server.url, { transports, reconnection: false });
      const custom = main.io.socket("/custom");
      const auth = once(custom, "auth");
      await Promise.all([once(main, "connect"), once(custom, "connect")]);
      assert.deepEqual(await auth, [{}]);
      assert.equal(main.io.engine.id, custom.io.engine.id);
      custom.disconnect();
      const back = once(main, "message-back");
      main.emit("message", "still here");
      assert.deepEqual(await back, ["still here"]);
      main.io.engine.close();
    });

    it("is refused by a namespace's connect check", async () => {
      const s = io(`${server.url}/refused`, { transports, forceNew: true, reconnection: false });
      const [err] = await once(s, "connect_error");
      assert.equal(err.message, "not authorized");
      assert.deepEqual(err.data, { reason: "missing token" });
      s.close();
      const ok = io(`${server.url}/refused`, { transports, forceNew: true, reconnection: false, auth: { token: "secret" } });
      await once(ok, "connect");
      ok.close();
    });

    it("is refused by an unknown namespace", async () => {
      const s = io(`${server.url}/nope`, { transports, forceNew: true, reconnection: false });
      const [err] = await once(s, "connect_error");
      assert.equal(err.message, "Invalid namespace");
      s.close();
    });

    it("is disconnected by the server", async () => {
      const { s } = await connect();
      const reason = once(s, "disconnect");
      s.emit("disconnect-me");
      assert.deepEqual(await reason, ["io server disconnect", undefined]);
      s.close();
    });

    it("is disconnected with the connection closed by the server", async () => {
      const { s } = await connect();
      const reason = once(s, "disconnect");
      s.emit("disconnect-me", true);
      assert.equal((await reason)[0], "io server disconnect");
      s.close();
    });

    it("is dropped when it stops answering pings", async () => {
      const { s } = await connect();
      if (s.io.engine.transport.name !== expect) await once(s.io.engine, "upgrade");
      // engine.io-client answers pings in onPacket() via _sendPacket().
      const engine = s.io.engine;
      const send = engine._sendPacket.bind(engine);
      engine._sendPacket = (type, ...rest) => (type === "pong" ? undefined : send(type, ...rest));
      const t0 = Date.now();
      const [reason] = await once(s, "disconnect", 3000);
      // The server closed it (a client-side timeout would say "ping timeout"
      // and take longer than pingInterval + pingTimeout).
      assert.equal(reason, "transport close");
      assert.ok(Date.now() - t0 < 1500, `took ${Date.now() - t0} ms`);
      s.close();
    });
  });
}

describe("many clients", () => {
  // A server of its own, with the suite's pingInterval but a pingTimeout
  // and connectTimeout a loaded machine can keep: with 50 clients in this
  // one Node process on two busy cores, the client's event loop stalls for
  // 200-1400 ms at times, and the Node reference server then drops clients
  // at the suite's 200 ms / 1000 ms just as ours does. What this test checks
  // is that the server keeps 50 sessions of all transports alive through
  // several ping rounds at once, not how fast one Node process can answer;
  // the short timeouts themselves are checked by "is dropped when it stops
  // answering pings" above and by the protocol suites.
  const pingInterval = 300;
  let many;
  before(async () => {
    many = await startServer("sio-test-server", [], {
      env: { PING_INTERVAL: String(pingInterval), PING_TIMEOUT: "3000", CONNECT_TIMEOUT: "5000" },
    });
  });
  after(async () => {
    const r = await many.stop();
    if (!process.env.GST_MESH_TARGET_URL) assert.equal(r.code, 0, `server exit: ${JSON.stringify(r)}\n${many.output()}`);
  });

  it("keeps 50 clients of mixed transports talking at once", async () => {
    const dropped = [];
    const clients = await Promise.all(
      Array.from({ length: 50 }, async (_, i) => {
        const s = io(many.url, { transports: Object.values(modes)[i % 3].transports, forceNew: true, reconnection: false });
        s.on("disconnect", (reason) => dropped.push(`client ${i}: ${reason}`));
        s.on("connect_error", (err) => dropped.push(`client ${i}: connect_error ${err.message}`));
        await once(s, "connect", 10000).catch((err) => {
          throw new Error(`${err.message}; dropped: ${dropped.join(", ") || "none"}`);
        });
        return s;
      }),
    );
    // Through a few ping rounds: every session must answer its pings.
    await sleep(3 * pingInterval);
    assert.deepEqual(dropped, []);
    const replies = await Promise.all(clients.map((s, i) => s.timeout(5000).emitWithAck("message-with-ack", i)));
    assert.deepEqual(replies, clients.map((_, i) => i));
    assert.deepEqual(dropped, []);
    clients.forEach((s) => s.close());
  });
});
