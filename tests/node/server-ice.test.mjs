// gst-mesh-server hands out ICE servers with TURN REST credentials
// (--turn-secret, --turn-url, --turn-ttl): the official socket.io-client
// gets an "ice-servers" event on connect, asks again with an ack, and the
// credentials are the ones coturn's use-auth-secret accepts (user name
// EXPIRY:ID, password base64(HMAC-SHA1(secret, user name)), computed here
// with Node's crypto). That coturn takes them is tests/net/nat.test.mjs's
// room test. Bad URLs stop the server with a message that says why.
//
// Run: node --test tests/node/server-ice.test.mjs

import { after, before, describe, it } from "node:test";
import assert from "node:assert/strict";
import { createHmac } from "node:crypto";
import { spawnSync } from "node:child_process";
import path from "node:path";
import { io } from "socket.io-client";
import { once, startServer } from "./server-helpers.mjs";

const SECRET = "north-secret";
const URLS = ["stun:203.0.113.1:3478", "turn:203.0.113.1:3478?transport=udp", "turns:turn.example.org:443?transport=tcp"];

function connect(url) {
  return io(url, { transports: ["websocket"], forceNew: true, reconnection: false });
}

function checkIce(msg, id, ttl) {
  assert.equal(msg.ttl, ttl);
  assert.equal(msg.iceServers.length, 2, JSON.stringify(msg));
  const [stun, turn] = msg.iceServers;
  assert.deepEqual(stun, { urls: [URLS[0]] });
  assert.deepEqual(turn.urls, URLS.slice(1));
  const [expiry, who] = turn.username.split(":");
  assert.equal(who, id);
  const now = Math.floor(Date.now() / 1000);
  assert.ok(Math.abs(Number(expiry) - (now + ttl)) <= 5, `expiry ${expiry}, now ${now}`);
  assert.equal(turn.credential, createHmac("sha1", SECRET).update(turn.username).digest("base64"));
}

describe("gst-mesh-server --turn-secret", () => {
  let server;
  before(async () => {
    server = await startServer("gst-mesh-server", [
      "--port=0",
      "--address=127.0.0.1",
      `--turn-secret=${SECRET}`,
      ...URLS.map((u) => `--turn-url=${u}`),
      "--turn-ttl=600",
    ]);
  });
  after(async () => server?.stop());

  it("sends every client its ice-servers on connect", async () => {
    const c = connect(server.url);
    try {
      const [msg] = await once(c, "ice-servers", 5000);
      checkIce(msg, c.id, 600);
    } finally {
      c.close();
    }
  });

  it("answers a request for fresh credentials by ack, different per client", async () => {
    const a = connect(server.url);
    const b = connect(server.url);
    try {
      await Promise.all([once(a, "ice-servers", 5000), once(b, "ice-servers", 5000)]);
      const ra = await a.timeout(5000).emitWithAck("ice-servers");
      const rb = await b.timeout(5000).emitWithAck("ice-servers");
      checkIce(ra, a.id, 600);
      checkIce(rb, b.id, 600);
      assert.notEqual(ra.iceServers[1].credential, rb.iceServers[1].credential);
    } finally {
      a.close();
      b.close();
    }
  });
});

describe("gst-mesh-server without --turn-secret", () => {
  let server;
  before(async () => {
    server = await startServer("gst-mesh-server", ["--port=0", "--address=127.0.0.1"]);
  });
  after(async () => server?.stop());

  it("sends no ice-servers, and acks a request with an empty list", async () => {
    const c = connect(server.url);
    let unasked = 0;
    c.on("ice-servers", () => unasked++);
    try {
      await once(c, "connect", 5000);
      const r = await c.timeout(5000).emitWithAck("ice-servers");
      assert.deepEqual(r, { iceServers: [], ttl: 0 });
      assert.equal(unasked, 0);
    } finally {
      c.close();
    }
  });
});

describe("gst-mesh-server refuses bad TURN options", () => {
  const bin = process.env.GST_MESH_GST_MESH_SERVER ?? path.resolve("..", "build", "tools", "gst-mesh-server");
  const run = (...args) => spawnSync(bin, ["--port=0", ...args], { encoding: "utf8", timeout: 10000 });
  for (const [args, says] of [
    [["--turn-secret=s", "--turn-url=turn:h?transport=sctp"], "unknown transport 'sctp'"],
    [["--turn-secret=s", "--turn-url=http://h"], "unknown scheme 'http'"],
    [["--turn-secret=s", "--turn-url=turn:h:99999"], "port '99999'"],
    [["--turn-url=turn:h"], "--turn-secret and --turn-url go together"],
    [["--turn-secret=s", "--turn-url=turn:h", "--turn-ttl=5"], "--turn-ttl must be 60 seconds or more"],
  ])
    it(`${args.join(" ")}: exit 2, "${says}"`, () => {
      const r = run(...args);
      assert.equal(r.status, 2, r.stdout + r.stderr);
      assert.match(r.stderr, new RegExp(says.replace(/[.*+?^${}()|[\]\\]/g, "\\$&")));
    });
});
