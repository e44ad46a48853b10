// Bad input against our servers: every refusal names what was wrong, only
// the offending session is closed, every other client keeps working, and
// the server survives (run with GST_MESH_SERVER_WRAPPER="valgrind ..." or an
// ASan build to check for memory errors too).
//
// Run: node --test tests/node/server-bad-input.test.mjs

import { after, before, describe, it } from "node:test";
import assert from "node:assert/strict";
import net from "node:net";
import { io } from "socket.io-client";
import { RawSocket, rawSioConnect, sleep, startServer } from "./server-helpers.mjs";

let server, URL, witness;
const sio = (q) => `${URL}/socket.io/?EIO=4&transport=polling${q}`;

// A well-behaved client that must not notice anything.
async function witnessWorks() {
  const r = await witness.timeout(3000).emitWithAck("message-with-ack", "still fine");
  assert.equal(r, "still fine");
}

before(async () => {
  server = await startServer("sio-test-server");
  URL = server.url;
  witness = io(URL, { transports: ["websocket"], reconnection: false });
  await new Promise((r) => witness.once("connect", r));
});
after(async () => {
  await witnessWorks();
  witness.close();
  const r = await server.stop();
  if (!process.env.GST_MESH_TARGET_URL) assert.equal(r.code, 0, `server exit: ${JSON.stringify(r)}\n${server.output()}`);
});

async function openSession() {
  const res = await fetch(sio(""));
  const sid = JSON.parse((await res.text()).substring(1)).sid;
  await fetch(sio(`&sid=${sid}`), { method: "POST", body: "40" });
  const poll = await fetch(sio(`&sid=${sid}`));
  assert.match(await poll.text(), /^40\{"sid"/);
  return sid;
}

async function assertSessionGone(sid) {
  const res = await fetch(sio(`&sid=${sid}`));
  assert.equal(res.status, 400);
  assert.deepEqual(await res.json(), { code: 1, message: "Session ID unknown" });
}

describe("HTTP errors", () => {
  const cases = [
    ["unknown transport", "/socket.io/?EIO=4&transport=carrier-pigeon", {}, 400, { code: 0, message: "Transport unknown" }],
    ["unknown sid", "/socket.io/?EIO=4&transport=polling&sid=nope", {}, 400, { code: 1, message: "Session ID unknown" }],
    ["handshake with POST", "/socket.io/?EIO=4&transport=polling", { method: "POST", body: "40" }, 400, { code: 2, message: "Bad handshake method" }],
    ["handshake with DELETE", "/socket.io/?EIO=4&transport=polling", { method: "DELETE" }, 400, { code: 2, message: "Bad handshake method" }],
    ["websocket transport without upgrade", "/socket.io/?EIO=4&transport=websocket", {}, 400, { code: 3, message: "Bad request" }],
    ["protocol version 3", "/socket.io/?EIO=3&transport=polling", {}, 400, { code: 5, message: "Unsupported protocol version" }],
    ["no protocol version", "/socket.io/?transport=polling", {}, 400, { code: 5, message: "Unsupported protocol version" }],
  ];
  for (const [what, path, init, status, body] of cases) {
    it(`answers ${what} with ${status} ${JSON.stringify(body)}`, async () => {
      const res = await fetch(URL + path, init);
      assert.equal(res.status, status);
      assert.equal(res.headers.get("content-type"), "application/json");
      assert.deepEqual(await res.json(), body);
    });
  }

  it("answers a request with the wrong transport for its session with code 3", async () => {
    const sid = await openSession();
    const s = new RawSocket(`${URL.replace("http", "ws")}/socket.io/?EIO=4&transport=websocket&sid=${sid}`);
    await s.opened;
    s.send("2probe");
    await s.next();
    s.send("5");
    await sleep(50);
    const res = await fetch(sio(`&sid=${sid}`));
    assert.equal(res.status, 400);
    assert.deepEqual(await res.json(), { code: 3, message: "Bad request" });
    s.close();
  });

  it("answers a protocol mismatch within a session with code 3", async () => {
    const sid = await openSession();
    const res = await fetch(`${URL}/socket.io/?EIO=3&transport=polling&sid=${sid}`);
    assert.equal(res.status, 400);
    assert.deepEqual(await res.json(), { code: 3, message: "Bad request" });
  });
});

describe("polling bodies", () => {
  it("answers an oversized POST with 413 and closes that session", async () => {
    const sid = await openSession();
    const res = await fetch(sio(`&sid=${sid}`), { method: "POST", body: "4" + "x".repeat(1000001) });
    assert.equal(res.status, 413);
    await assertSessionGone(sid);
    await witnessWorks();
  });

  it("answers an oversized chunked POST with 413 and closes that session", async () => {
    const sid = await openSession();
    const body = new ReadableStream({
      start(c) {
        for (let i = 0; i < 20; i++) c.enqueue(new TextEncoder().encode("4" + "y".repeat(99999)));
        c.close();
      },
    });
    const res = await fetch(sio(`&sid=${sid}`), { method: "POST", body, duplex: "half" });
    assert.equal(res.status, 413);
    await assertSessionGone(sid);
    await witnessWorks();
  });

  it("refuses a non-UTF-8 body and closes that session", async () => {
    const sid = await openSession();
    const res = await fetch(sio(`&sid=${sid}`), { method: "POST", body: Buffer.from([0x34, 0xff, 0xfe, 0x80]) });
    assert.equal(res.status, 400);
    const body = await res.json();
    assert.equal(body.code, 3);
    assert.match(body.detail, /UTF-8/i);
    await assertSessionGone(sid);
    await witnessWorks();
  });

  it("refuses a binary (octet-stream) body, which v4 does not have", async () => {
    const sid = await openSession();
    const res = await fetch(sio(`&sid=${sid}`), { method: "POST", body: "4hi", headers: { "Content-Type": "application/octet-stream" } });
    assert.equal(res.status, 400);
    assert.match((await res.json()).detail, /binary/);
    await assertSessionGone(sid);
  });

  for (const [what, body] of [
    ["an unknown Engine.IO packet type", "9oops"],
    ["bad base64", "b!!!"],
    ["an invalid Socket.IO packet", "4zzz"],
    ["JSON of the wrong shape", '42{"not":"an array"}'],
    ["truncated JSON", '42["message",'],
    ["an EVENT with a reserved name", '42["connect"]'],
  ]) {
    it(`closes the session on ${what} and nobody else's`, async () => {
      const sid = await openSession();
      const other = await openSession();
      const res = await fetch(sio(`&sid=${sid}`), { method: "POST", body });
      assert.ok([200, 400].includes(res.status), `status ${res.status}`);
      await sleep(20);
      // The session is closed: either already gone, or its last poll carries
      // the close packet.
      const poll = await fetch(sio(`&sid=${sid}`));
      if (poll.status === 200) {
        assert.match(await poll.text(), /1$/);
        await assertSessionGone(sid);
      } else {
        assert.equal(poll.status, 400);
      }
      const ok = await fetch(sio(`&sid=${other}`), { method: "POST", body: '42["message","ok"]' });
      assert.equal(ok.status, 200);
      const back = await fetch(sio(`&sid=${other}`));
      assert.equal(await back.text(), '42["message-back","ok"]');
      await witnessWorks();
    });
  }
});

describe("WebSocket frames", () => {
  for (const [what, frame] of [
    ["an unknown Engine.IO packet type", "9"],
    ["an empty frame", ""],
    ["an invalid Socket.IO packet", "4-1"],
    ["JSON of the wrong shape", "42{}"],
    ["a huge attachment count", "4599999999999-[]"],
    ["a namespace it did not join", '42/custom,["message"]'],
    ["an ack id that overflows", '4299999999999999999999["message"]'],
  ]) {
    it(`closes the connection on ${what} and nobody else's`, async () => {
      const bad = await rawSioConnect(URL);
      const good = await rawSioConnect(URL);
      bad.send(frame);
      await bad.waitClose(1000);
      good.send('42["message","hi"]');
      // "auth" may still be queued first.
      let m = await good.next();
      if (m.startsWith('42["auth"')) m = await good.next();
      assert.equal(m, '42["message-back","hi"]');
      good.close();
      await witnessWorks();
    });
  }

  it("closes the connection on a frame over maxPayload", async () => {
    const bad = await rawSioConnect(URL);
    bad.send("4" + "z".repeat(1000001));
    const code = await bad.waitClose(2000);
    // Not 1006: the server reads and drops the rest of the message before
    // it closes the socket, so no reset takes the close frame away.
    assert.equal(code, 1009);
    await witnessWorks();
  });

  it("closes the connection on invalid UTF-8 in a text frame", async () => {
    const bad = await rawSioConnect(URL);
    bad.ws._socket.write(Buffer.from([0x81, 0x82, 0, 0, 0, 0, 0x34, 0xff]));
    const code = await bad.waitClose(2000);
    assert.ok([1002, 1007].includes(code), `close code ${code}`);
    await witnessWorks();
  });
});

describe("connections", () => {
  it("survives garbage instead of HTTP", async () => {
    await new Promise((resolve) => {
      const c = net.connect(server.port, "127.0.0.1", () => c.end("\x00\x01GARBAGE\r\n\r\n\xff\xfe"));
      c.on("close", resolve);
      c.on("error", resolve);
      c.resume();
    });
    await witnessWorks();
  });

  it("survives clients that vanish mid-poll and mid-upgrade", async () => {
    for (let i = 0; i < 20; i++) {
      const sid = await openSession();
      const ctl = new AbortController();
      const p = fetch(sio(`&sid=${sid}`), { signal: ctl.signal }).catch(() => {});
      const s = new RawSocket(`${URL.replace("http", "ws")}/socket.io/?EIO=4&transport=websocket&sid=${sid}`);
      await s.opened;
      if (i % 2) s.send("2probe");
      ctl.abort();
      s.ws.terminate();
      await p;
    }
    await witnessWorks();
  });
});
