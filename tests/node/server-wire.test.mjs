// The server's own wire code, byte by byte:
// - relayed bytes: gst-mesh-server relays what the seed's server would: a
//   receiver gets `42["<event>",<data>]` with <data> exactly as
//   JSON.stringify(JSON.parse(<what the sender sent>)) writes it, whichever
//   way the server got there (relaying the sender's text when it already
//   is in that form, decoding and re-encoding it otherwise);
// - WebSocket framing (gst/mesh/gstmeshwsconn.c, which replaced libsoup's):
//   frames split across and packed into TCP segments, fragmented messages,
//   pings, the closing handshake, frames a server must refuse.
//
// Run: node --test tests/node/server-wire.test.mjs

import { after, before, describe, it } from "node:test";
import assert from "node:assert/strict";
import crypto from "node:crypto";
import net from "node:net";
import { rawSioConnect, sleep, startServer } from "./server-helpers.mjs";

let server, a, b;
before(async () => {
  server = await startServer("gst-mesh-server", ["--port", "0", "--address", "127.0.0.1", "--max-event-rate", "0"]);
  a = await rawSioConnect(server.url);
  b = await rawSioConnect(server.url);
});
after(async () => {
  a?.close();
  b?.close();
  const r = await server.stop();
  if (!process.env.GST_MESH_TARGET_URL) assert.equal(r.code, 0, `server exit: ${JSON.stringify(r)}\n${server.output()}`);
});

// What the reference sends on for `42["candidate",<args>]`: the seed's
// handler takes the first argument and broadcasts it.
function expected(argsText) {
  const args = JSON.parse(`[${argsText}]`);
  return `42${JSON.stringify(["candidate", args.length ? args[0] : null])}`;
}

async function relay(argsText, { ack = "" } = {}) {
  a.send(`42${ack}["candidate"${argsText === "" ? "" : "," + argsText}]`);
  return b.next();
}

// Deterministic pseudo-random numbers, so a failure can be reproduced.
let seed = 12345;
const rand = () => {
  seed = (seed * 1103515245 + 12345) % 2147483648;
  return seed / 2147483648;
};
const pick = (xs) => xs[Math.floor(rand() * xs.length)];

function randomString() {
  const pieces = ["a", "Z", " ", "\"", "\\", "/", "\n", "\t", "\b", "\f", "\r", "\u0001", "\u001f", "\u007f",
    "é", "✓", "😀", "\u2028", "candidate:1 1 udp 2130706431 10.0.0.1 5000 typ host", "0", "17", "__proto__"];
  let s = "";
  const n = Math.floor(rand() * 6);
  for (let i = 0; i < n; i++) s += pick(pieces);
  return s;
}

function randomValue(depth = 0) {
  const r = rand();
  if (depth > 3 || r < 0.35) {
    return pick([
      () => randomString(),
      () => Math.floor(rand() * 2000) - 1000,
      () => pick([0, 1, -1, 0.5, -2.25, 1e21, 1e-7, 123456789012345, 2 ** 53 - 1, 1.5e300]),
      () => pick([true, false, null]),
    ])();
  }
  if (r < 0.65) {
    const o = {};
    const n = Math.floor(rand() * 5);
    for (let i = 0; i < n; i++) o[pick(["sdp", "type", "candidate", "sdpMid", "x", "é", "0", "7", randomString()])] = randomValue(depth + 1);
    return o;
  }
  const n = Math.floor(rand() * 4);
  return Array.from({ length: n }, () => randomValue(depth + 1));
}

// The same value written differently, as other encoders may: spaces,
// needless escapes, other number forms, repeated keys.
function variant(text) {
  return pick([
    (t) => t.replace(/,/g, ", ").replace(/:/g, " : "),
    (t) => ` ${t}\n`,
    (t) => t.replace(/\//g, "\\/"),
    (t) => t.replace(/"a/g, "\"\\u0061"),
    (t) => t.replace(/\\u001f/g, "\\u001F"),
    (t) => t.replace(/(^|[^0-9.e])(\d+)(?=[,\]}])/g, "$1$2.0"),
    (t) => (t.startsWith("{") && t.length > 2 ? `{"sdp":1,${t.slice(1)}` : t),
    (t) => t,
  ])(text);
}

describe("relayed bytes", () => {
  it("are the seed's for typical signalling payloads", async () => {
    const cases = [
      JSON.stringify({ candidate: "candidate:842163049 1 udp 1677729535 192.0.2.33 54400 typ srflx", sdpMid: "0", sdpMLineIndex: 0, usernameFragment: "Zk3x" }),
      JSON.stringify({ type: "offer", sdp: "v=0\r\no=- 4611731400430051336 2 IN IP4 127.0.0.1\r\ns=-\r\n" }),
      JSON.stringify({ type: "answer", sdp: "v=0\r\n", extra: [1, 2, { nested: "ü✓😀" }] }),
      "null", "0", "-17", "\"text\"", "[]", "{}", "true",
      "1.5", "-0", "1e3", "12345678901234567890", "0.1",
      "{\"a\":1,\"a\":2}", "{\"b\":1,\"1\":2,\"0\":3}", "{ \"a\" : 1 }",
      "\"\\u00e9\\/\\u001F\"", "\"\\ud83d\\ude00\"",
      "{\"candidate\":\"x\"},{\"second\":true}", "",
    ];
    for (const c of cases) assert.equal(await relay(c), expected(c), `args ${JSON.stringify(c)}`);
  });

  it("are the seed's for an event that asks for an ack", async () => {
    const c = JSON.stringify({ candidate: "c", sdpMid: "0" });
    assert.equal(await relay(c, { ack: "7" }), expected(c));
  });

  it("are the seed's for 600 random values, as JSON.stringify writes them and otherwise", async () => {
    for (let i = 0; i < 600; i++) {
      const value = randomValue();
      const canonical = JSON.stringify(value);
      const text = i % 2 ? canonical : variant(canonical);
      try {
        JSON.parse(`[${text}]`);
      } catch {
        continue; // a variant that broke the JSON: not a relay question
      }
      // The codec refuses what it cannot hold (documented in design.md):
      // skip the few such values instead of losing the connection.
      if (/\\u0000/.test(text)) continue;
      const got = await relay(text);
      assert.equal(got, expected(text), `case ${i}: args ${JSON.stringify(text)}`);
    }
  });
});

// A WebSocket client on a bare TCP socket, to send frames no library would.
class WireSocket {
  static async open(port) {
    const w = new WireSocket();
    w.sock = net.connect(port, "127.0.0.1");
    w.buf = Buffer.alloc(0);
    w.frames = [];
    w.waiters = [];
    w.ended = false;
    w.sock.on("data", (d) => {
      w.buf = Buffer.concat([w.buf, d]);
      w.parse();
    });
    w.sock.on("close", () => {
      w.ended = true;
      w.wake();
    });
    w.sock.on("error", () => {});
    await new Promise((r) => w.sock.once("connect", r));
    const key = crypto.randomBytes(16).toString("base64");
    w.sock.write(`GET /socket.io/?EIO=4&transport=websocket HTTP/1.1\r\nHost: 127.0.0.1\r\n` +
      `Upgrade: websocket\r\nConnection: Upgrade\r\nSec-WebSocket-Key: ${key}\r\nSec-WebSocket-Version: 13\r\n\r\n`);
    await w.until(() => w.head !== undefined);
    assert.match(w.head, /^HTTP\/1\.1 101/);
    assert.equal((await w.next()).text[0], "0"); // Engine.IO open
    return w;
  }
  wake() {
    for (const f of this.waiters.splice(0)) f();
  }
  until(cond, ms = 3000) {
    return new Promise((resolve, reject) => {
      const check = () => {
        if (cond()) return resolve();
        if (this.ended) return reject(new Error("connection closed"));
        this.waiters.push(check);
      };
      setTimeout(() => reject(new Error("timeout")), ms);
      check();
    });
  }
  parse() {
    if (this.head === undefined) {
      const end = this.buf.indexOf("\r\n\r\n");
      if (end < 0) return;
      this.head = this.buf.subarray(0, end).toString();
      this.buf = this.buf.subarray(end + 4);
    }
    for (;;) {
      if (this.buf.length < 2) break;
      let len = this.buf[1] & 0x7f, off = 2;
      if (len === 126) {
        if (this.buf.length < 4) break;
        len = this.buf.readUInt16BE(2);
        off = 4;
      } else if (len === 127) {
        if (this.buf.length < 10) break;
        len = Number(this.buf.readBigUInt64BE(2));
        off = 10;
      }
      if (this.buf.length < off + len) break;
      const payload = this.buf.subarray(off, off + len);
      this.frames.push({ fin: !!(this.buf[0] & 0x80), op: this.buf[0] & 0x0f, payload, text: payload.toString() });
      this.buf = this.buf.subarray(off + len);
    }
    this.wake();
  }
  async next(ms = 3000) {
    for (;;) {
      await this.until(() => this.frames.length > 0, ms);
      const f = this.frames.shift();
      if (f.op === 1 && f.text === "2") { // Engine.IO ping
        this.send(frame(1, "3"));
        continue;
      }
      return f;
    }
  }
  send(bytes) {
    this.sock.write(bytes);
  }
  closed(ms = 3000) {
    return this.until(() => false, ms).catch((e) => {
      if (e.message !== "connection closed") throw e;
    });
  }
}

// A masked client frame.
function frame(op, data, { fin = true, mask = true, rsv = 0 } = {}) {
  const payload = Buffer.isBuffer(data) ? data : Buffer.from(data);
  const len = payload.length;
  const head = [(fin ? 0x80 : 0) | rsv | op];
  if (len < 126) head.push((mask ? 0x80 : 0) | len);
  else if (len < 65536) head.push((mask ? 0x80 : 0) | 126, len >> 8, len & 0xff);
  else {
    head.push((mask ? 0x80 : 0) | 127);
    const b = Buffer.alloc(8);
    b.writeBigUInt64BE(BigInt(len));
    head.push(...b);
  }
  if (!mask) return Buffer.concat([Buffer.from(head), payload]);
  const key = crypto.randomBytes(4);
  const masked = Buffer.from(payload.map((c, i) => c ^ key[i % 4]));
  return Buffer.concat([Buffer.from(head), key, masked]);
}

describe("WebSocket framing", () => {
  let port;
  before(() => {
    port = new URL(server.url).port;
  });

  async function joined() {
    const w = await WireSocket.open(port);
    w.send(frame(1, "40"));
    assert.match((await w.next()).text, /^40\{"sid":/);
    return w;
  }

  it("reads frames split into single bytes, and many frames in one segment", async () => {
    const s = await joined();
    const r = await joined();
    const one = frame(1, '42["candidate",{"n":1}]');
    for (const byte of one) {
      s.send(Buffer.from([byte]));
      await sleep(1);
    }
    assert.equal((await r.next()).text, '42["candidate",{"n":1}]');
    const many = [];
    for (let i = 0; i < 50; i++) many.push(frame(1, `42["candidate",{"n":${i}}]`));
    s.send(Buffer.concat(many));
    for (let i = 0; i < 50; i++) assert.equal((await r.next()).text, `42["candidate",{"n":${i}}]`);
    s.sock.destroy();
    r.sock.destroy();
  });

  it("reassembles fragmented messages, with a ping between the fragments", async () => {
    const s = await joined();
    const r = await joined();
    s.send(Buffer.concat([
      frame(1, '42["candidate",{"a":"', { fin: false }),
      frame(9, "are you there"),
      frame(0, "x".repeat(70000), { fin: false }),
      frame(0, '"}]'),
    ]));
    const pong = await s.next();
    assert.equal(pong.op, 0xa);
    assert.equal(pong.text, "are you there");
    assert.equal((await r.next()).text, `42["candidate",{"a":"${"x".repeat(70000)}"}]`);
    s.sock.destroy();
    r.sock.destroy();
  });

  it("answers a close frame with the same code, then closes the connection", async () => {
    const s = await joined();
    s.send(frame(8, Buffer.from([0x0f, 0xa0, 0x62, 0x79, 0x65]))); // 4000 "bye"
    const f = await s.next();
    assert.equal(f.op, 8);
    assert.equal(f.payload.readUInt16BE(0), 4000);
    await s.closed();
  });

  for (const [what, bytes, code] of [
    ["an unmasked frame", frame(1, "42[\"candidate\",1]", { mask: false }), 1002],
    ["reserved bits", frame(1, "42[\"candidate\",1]", { rsv: 0x40 }), 1002],
    ["an unknown opcode", frame(3, "x"), 1002],
    ["a continuation with nothing to continue", frame(0, "x"), 1002],
    ["a fragmented ping", frame(9, "x", { fin: false }), 1002],
    ["a text frame that is not UTF-8", frame(1, Buffer.from([0x34, 0xc3, 0x28])), 1007],
    ["an invalid close code", frame(8, Buffer.from([0x03, 0xe7])), 1002],
  ]) {
    it(`closes with ${code} on ${what}, and others carry on`, async () => {
      const bad = await joined();
      const good = await joined();
      bad.send(bytes);
      const f = await bad.next();
      assert.equal(f.op, 8, `got op ${f.op} ${f.text}`);
      assert.equal(f.payload.readUInt16BE(0), code);
      bad.send(frame(8, Buffer.from([0x03, 0xe8])));
      await bad.closed();
      const peer = await joined();
      good.send(frame(1, '42["candidate","still here"]'));
      assert.equal((await peer.next()).text, '42["candidate","still here"]');
      good.sock.destroy();
      peer.sock.destroy();
    });
  }

  it("refuses a message over maxPayload before reading it (1009)", async () => {
    const bad = await joined();
    // Only the header and a little of the announced 2 MB are sent.
    const head = frame(1, Buffer.alloc(2000001, 0x61)).subarray(0, 4000);
    bad.send(head);
    const f = await bad.next();
    assert.equal(f.op, 8);
    assert.equal(f.payload.readUInt16BE(0), 1009);
    bad.sock.destroy();
  });
});
