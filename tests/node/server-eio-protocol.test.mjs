// Engine.IO v4 behaviour of our server, test by test the official
// engine.io-protocol test suite (socketio/engine.io-protocol,
// test-suite/test-suite.js) against tests/servers/eio-echo-server, plus the
// error bodies and CORS headers of the reference server.
//
// Run: node --test tests/node/server-eio-protocol.test.mjs

import { after, before, describe, it } from "node:test";
import assert from "node:assert/strict";
import http from "node:http";
import { RawSocket, pollingHandshake, sleep, startServer } from "./server-helpers.mjs";

const PING_INTERVAL = 300;
const PING_TIMEOUT = 200;

let server, URL, WS_URL;
before(async () => {
  server = await startServer("eio-echo-server");
  URL = server.url;
  WS_URL = URL.replace("http", "ws");
});
after(async () => {
  const r = await server.stop();
  if (!process.env.GST_MESH_TARGET_URL) assert.equal(r.code, 0, `server exit: ${JSON.stringify(r)}\n${server.output()}`);
});

const eio = (q = "") => `${URL}/engine.io/?EIO=4&transport=polling${q}`;
const ws = (q = "") => new RawSocket(`${WS_URL}/engine.io/?EIO=4&transport=websocket${q}`);

describe("handshake", () => {
  it("opens a polling session with the reference's open packet", async () => {
    const res = await fetch(eio());
    assert.equal(res.status, 200);
    assert.equal(res.headers.get("content-type"), "text/plain; charset=UTF-8");
    assert.equal(res.headers.get("cache-control"), "no-store");
    const text = await res.text();
    assert.match(text, /^0\{"sid":"[A-Za-z0-9_-]{20}","upgrades":\["websocket"\],"pingInterval":300,"pingTimeout":200,"maxPayload":1000000\}$/);
  });

  it("opens a WebSocket session with no upgrades", async () => {
    const s = ws();
    const open = await s.next();
    const value = JSON.parse(open.substring(1));
    assert.deepEqual(Object.keys(value), ["sid", "upgrades", "pingInterval", "pingTimeout", "maxPayload"]);
    assert.deepEqual(value.upgrades, []);
    assert.equal(value.pingInterval, PING_INTERVAL);
    assert.equal(value.pingTimeout, PING_TIMEOUT);
    assert.equal(value.maxPayload, 1000000);
    s.close();
  });

  it("refuses a missing or invalid EIO with code 5", async () => {
    for (const q of ["/engine.io/?transport=polling", "/engine.io/?EIO=abc&transport=polling", "/engine.io/?EIO=3&transport=polling"]) {
      const res = await fetch(URL + q);
      assert.equal(res.status, 400);
      assert.deepEqual(await res.json(), { code: 5, message: "Unsupported protocol version" });
    }
  });

  it("refuses a missing or unknown transport with code 0", async () => {
    for (const q of ["/engine.io/?EIO=4", "/engine.io/?EIO=4&transport=abc", "/engine.io/?EIO=4&transport=constructor"]) {
      const res = await fetch(URL + q);
      assert.equal(res.status, 400);
      assert.equal(res.headers.get("content-type"), "application/json");
      assert.equal(await res.text(), '{"code":0,"message":"Transport unknown"}');
    }
  });

  it("refuses a handshake that is not GET with code 2", async () => {
    for (const method of ["POST", "PUT"]) {
      const res = await fetch(eio(), { method });
      assert.equal(res.status, 400);
      assert.equal(await res.text(), '{"code":2,"message":"Bad handshake method"}');
    }
  });

  it("refuses a WebSocket handshake without the upgrade with code 3", async () => {
    const res = await fetch(`${URL}/engine.io/?EIO=4&transport=websocket`);
    assert.equal(res.status, 400);
    assert.equal(await res.text(), '{"code":3,"message":"Bad request"}');
  });

  it("refuses WebSocket handshakes with a bad EIO or transport", async () => {
    for (const q of ["?transport=websocket", "?EIO=abc&transport=websocket", "?EIO=4", "?EIO=4&transport=abc"]) {
      // We answer 400 before the upgrade; the reference upgrades, then
      // writes its 400 into the WebSocket and closes. Either way: no session.
      const s = new RawSocket(`${WS_URL}/engine.io/${q}`);
      const r = await s.opened.then(() => "open", (e) => e.message);
      if (r === "open") await s.waitClose(1000);
      else assert.match(r, /HTTP 400/);
    }
  });
});

describe("message", () => {
  it("echoes one plain text packet over polling", async () => {
    const sid = await pollingHandshake(URL);
    const push = await fetch(eio(`&sid=${sid}`), { method: "post", body: "4hello" });
    assert.equal(push.status, 200);
    assert.equal(await push.text(), "ok");
    const poll = await fetch(eio(`&sid=${sid}`));
    assert.equal(await poll.text(), "4hello");
  });

  it("echoes several packets in one payload", async () => {
    const sid = await pollingHandshake(URL);
    await fetch(eio(`&sid=${sid}`), { method: "post", body: "4test1\x1e4test2\x1e4test3" });
    const poll = await fetch(eio(`&sid=${sid}`));
    assert.equal(await poll.text(), "4test1\x1e4test2\x1e4test3");
  });

  it("echoes text and base64 binary packets", async () => {
    const sid = await pollingHandshake(URL);
    await fetch(eio(`&sid=${sid}`), { method: "post", body: "4hello\x1ebAQIDBA==" });
    const poll = await fetch(eio(`&sid=${sid}`));
    assert.equal(await poll.text(), "4hello\x1ebAQIDBA==");
  });

  it("closes the polling session upon an invalid packet", async () => {
    const sid = await pollingHandshake(URL);
    // The reference drops the request; we answer 400 and say why.
    try {
      const push = await fetch(eio(`&sid=${sid}`), { method: "post", body: "abc" });
      assert.equal(push.status, 400);
      const body = await push.json();
      assert.equal(body.code, 3);
      assert.match(body.detail, /invalid/);
    } catch (e) {
      if (!process.env.GST_MESH_TARGET_URL) throw e;
    }
    const poll = await fetch(eio(`&sid=${sid}`));
    assert.equal(poll.status, 400);
  });

  it("closes the session upon duplicate poll requests", async () => {
    const sid = await pollingHandshake(URL);
    const [first, second] = await Promise.all([
      fetch(eio(`&sid=${sid}`)),
      sleep(5).then(() => fetch(eio(`&sid=${sid}&t=burst`))),
    ]);
    assert.equal(first.status, 200);
    assert.equal(await first.text(), "1");
    assert.ok([400, 500].includes(second.status));
    const poll = await fetch(eio(`&sid=${sid}`));
    assert.equal(poll.status, 400);
  });

  it("echoes a plain text packet over WebSocket", async () => {
    const s = ws();
    await s.next();
    s.send("4hello");
    assert.equal(await s.next(), "4hello");
    s.close();
  });

  it("echoes a binary packet over WebSocket", async () => {
    const s = ws();
    await s.next();
    s.send(Uint8Array.from([1, 2, 3, 4]));
    assert.deepEqual(await s.next(), Buffer.from([1, 2, 3, 4]));
    s.close();
  });

  it("closes the WebSocket session upon an invalid packet", async () => {
    const s = ws();
    await s.next();
    s.send("abc");
    await s.waitClose(1000);
  });
});

describe("heartbeat", () => {
  it("sends pings over polling", async () => {
    const sid = await pollingHandshake(URL);
    for (let i = 0; i < 3; i++) {
      const poll = await fetch(eio(`&sid=${sid}`));
      assert.equal(await poll.text(), "2");
      const push = await fetch(eio(`&sid=${sid}`), { method: "post", body: "3" });
      assert.equal(push.status, 200);
    }
  });

  it("closes a polling session upon ping timeout", async () => {
    const sid = await pollingHandshake(URL);
    await sleep(PING_INTERVAL + PING_TIMEOUT + 50);
    const poll = await fetch(eio(`&sid=${sid}`));
    assert.equal(poll.status, 400);
    assert.equal(await poll.text(), '{"code":1,"message":"Session ID unknown"}');
  });

  it("sends pings over WebSocket", async () => {
    const s = ws();
    await s.next();
    const t0 = Date.now();
    for (let i = 0; i < 3; i++) {
      assert.equal(await s.next({ keepPings: true }), "2");
      s.send("3");
    }
    assert.ok(Date.now() - t0 >= 3 * PING_INTERVAL - 50);
    s.close();
  });

  it("closes a WebSocket session upon ping timeout", async () => {
    const s = ws();
    await s.next();
    const t0 = Date.now();
    await s.waitClose(2000);
    assert.ok(Date.now() - t0 >= PING_INTERVAL + PING_TIMEOUT - 50);
  });

  it("closes a session whose client pings (wrong direction in v4)", async () => {
    const s = ws();
    await s.next();
    s.send("2");
    await s.waitClose(200);
  });
});

describe("close", () => {
  it("forcefully closes a polling session", async () => {
    const sid = await pollingHandshake(URL);
    const [poll] = await Promise.all([
      fetch(eio(`&sid=${sid}`)),
      sleep(20).then(() => fetch(eio(`&sid=${sid}`), { method: "post", body: "1" })),
    ]);
    assert.equal(poll.status, 200);
    assert.equal(await poll.text(), "6");
    const poll2 = await fetch(eio(`&sid=${sid}`));
    assert.equal(poll2.status, 400);
  });

  it("forcefully closes a WebSocket session", async () => {
    // We close at once; the reference ignores the packet and lets the ping
    // time out, which is what the official suite waits for.
    const s = ws();
    await s.next();
    s.send("1");
    await s.waitClose(process.env.GST_MESH_TARGET_URL ? 1000 : 200);
  });
});

describe("upgrade", () => {
  it("upgrades from polling to WebSocket", async () => {
    const sid = await pollingHandshake(URL);
    const s = ws(`&sid=${sid}`);
    await s.opened;
    s.send("2probe");
    assert.equal(await s.next(), "3probe");
    const poll = await fetch(eio(`&sid=${sid}`));
    assert.equal(await poll.text(), "6");
    s.send("5");
    s.send("4hello");
    assert.equal(await s.next(), "4hello");
    s.close();
  });

  it("answers a poll pending during the probe with a noop", async () => {
    const sid = await pollingHandshake(URL);
    const pending = fetch(eio(`&sid=${sid}`));
    await sleep(20);
    const s = ws(`&sid=${sid}`);
    await s.opened;
    s.send("2probe");
    assert.equal(await s.next(), "3probe");
    assert.equal(await (await pending).text(), "6");
    s.send("5");
    s.send("4after");
    assert.equal(await s.next(), "4after");
    s.close();
  });

  it("refuses polling requests with the same sid after the upgrade", async () => {
    const sid = await pollingHandshake(URL);
    const s = ws(`&sid=${sid}`);
    await s.opened;
    s.send("2probe");
    s.send("5");
    assert.equal(await s.next(), "3probe");
    await sleep(20);
    const poll = await fetch(eio(`&sid=${sid}`));
    assert.equal(poll.status, 400);
    assert.equal(await poll.text(), '{"code":3,"message":"Bad request"}');
    s.send("4hello");
    assert.equal(await s.next(), "4hello");
    s.close();
  });

  // No pause between the "5" and the poll, the poll on the connection the
  // handshake came on (kept alive): the two come on two sockets at once,
  // and the upgrade must win, as in the reference (the official suites'
  // "ignores HTTP requests with same sid after upgrade" lost it 1 in 70).
  // A loop of that suite's own steps (node-fetch, ws) saw 3 of 200 and 4
  // of 300 polls served before the fix, 0 of 400 after; this loop, with
  // Node's http, did not catch the race in two runs without the fix: it
  // guards the behaviour, not that timing.
  it("refuses a poll sent right after the upgrade's 5, 300 times", async () => {
    const agent = new http.Agent({ keepAlive: true, maxSockets: 1 });
    const get = (path) =>
      new Promise((resolve, reject) =>
        http
          .get(`${URL}${path}`, { agent }, (res) => {
            let body = "";
            res.on("data", (d) => (body += d));
            res.on("end", () => resolve({ status: res.statusCode, body }));
          })
          .on("error", reject),
      );
    const wrong = [];
    for (let i = 0; i < 300; i++) {
      const open = await get("/engine.io/?EIO=4&transport=polling");
      const sid = JSON.parse(open.body.slice(1)).sid;
      const s = ws(`&sid=${sid}`);
      await s.opened;
      s.send("2probe");
      s.send("5");
      const poll = await get(`/engine.io/?EIO=4&transport=polling&sid=${sid}`);
      if (poll.status !== 400) wrong.push(`#${i}: ${poll.status} ${poll.body}`);
      s.close();
    }
    agent.destroy();
    assert.deepEqual(wrong, []);
  });

  it("closes a second WebSocket with the same sid after the upgrade", async () => {
    const sid = await pollingHandshake(URL);
    const s = ws(`&sid=${sid}`);
    await s.opened;
    s.send("2probe");
    s.send("5");
    await s.next();
    const s2 = ws(`&sid=${sid}`);
    await s2.waitClose(1000);
    s.send("4hello");
    assert.equal(await s.next(), "4hello");
    s.close();
  });
});

describe("CORS", () => {
  it("answers a preflight like the cors package", async () => {
    const res = await fetch(eio(), {
      method: "OPTIONS",
      headers: { Origin: "http://example.com", "Access-Control-Request-Headers": "content-type" },
    });
    assert.equal(res.status, 204);
    assert.equal(res.headers.get("access-control-allow-origin"), "*");
    assert.equal(res.headers.get("access-control-allow-methods"), "GET,HEAD,PUT,PATCH,POST,DELETE");
    assert.equal(res.headers.get("access-control-allow-headers"), "content-type");
  });

  it("puts the CORS headers on error replies too", async () => {
    const res = await fetch(`${URL}/engine.io/?EIO=4&transport=tobi`, { headers: { Origin: "http://example.com" } });
    assert.equal(res.status, 400);
    assert.equal(res.headers.get("access-control-allow-origin"), "*");
  });
});
