// Socket.IO v5 behaviour of our server, test by test the "Socket.IO
// protocol" part of the official socket.io-protocol test suite
// (socketio/socket.io-protocol, test-suite/test-suite.js) against
// tests/servers/sio-test-server.
//
// Run: node --test tests/node/server-sio-protocol.test.mjs

import { after, before, describe, it } from "node:test";
import assert from "node:assert/strict";
import { RawSocket, rawSioConnect, startServer } from "./server-helpers.mjs";

let server, URL, WS_URL;
before(async () => {
  server = await startServer("sio-test-server");
  URL = server.url;
  WS_URL = URL.replace("http", "ws");
});
after(async () => {
  const r = await server.stop();
  if (!process.env.GST_MESH_TARGET_URL) assert.equal(r.code, 0, `server exit: ${JSON.stringify(r)}\n${server.output()}`);
});

const open = () => new RawSocket(`${WS_URL}/socket.io/?EIO=4&transport=websocket`, { autoPong: true });
// The official suite's initSocketIOConnection(): connected, "auth" eaten.
const connected = () => rawSioConnect(URL, { skip: 2 });

describe("connect", () => {
  it("allows connection to the main namespace", async () => {
    const s = open();
    await s.next();
    s.send("40");
    const data = await s.next();
    assert.match(data, /^40\{"sid":"[A-Za-z0-9_-]{20}"\}$/);
    assert.equal(await s.next(), '42["auth",{}]');
    s.close();
  });

  it("allows connection to the main namespace with a payload", async () => {
    const s = open();
    await s.next();
    s.send('40{"token":"123"}');
    assert.match(await s.next(), /^40\{"sid":/);
    assert.equal(await s.next(), '42["auth",{"token":"123"}]');
    s.close();
  });

  it("allows connection to a custom namespace", async () => {
    const s = open();
    await s.next();
    s.send("40/custom,");
    const data = await s.next();
    assert.ok(data.startsWith("40/custom,"));
    assert.deepEqual(Object.keys(JSON.parse(data.substring(10))), ["sid"]);
    assert.equal(await s.next(), '42/custom,["auth",{}]');
    s.close();
  });

  it("allows connection to a custom namespace with a payload", async () => {
    const s = open();
    await s.next();
    s.send('40/custom,{"token":"abc"}');
    assert.ok((await s.next()).startsWith("40/custom,"));
    assert.equal(await s.next(), '42/custom,["auth",{"token":"abc"}]');
    s.close();
  });

  it("disallows connection to an unknown namespace", async () => {
    const s = open();
    await s.next();
    s.send("40/random");
    assert.equal(await s.next(), '44/random,{"message":"Invalid namespace"}');
    s.close();
  });

  it("refuses a namespace whose check fails, with message and data", async () => {
    const s = open();
    await s.next();
    s.send("40/refused,");
    assert.equal(await s.next(), '44/refused,{"message":"not authorized","data":{"reason":"missing token"}}');
    s.send('40/refused,{"token":"secret"}');
    assert.match(await s.next(), /^40\/refused,\{"sid":/);
    s.close();
  });

  it("disallows connection with an invalid handshake", async () => {
    const s = open();
    await s.next();
    s.send("4abc");
    await s.waitClose(1000);
  });

  it("closes sessions that join no namespace within the connect timeout", async () => {
    const s = open();
    await s.next();
    const t0 = Date.now();
    await s.waitClose(3000);
    assert.ok(Date.now() - t0 >= 900);
  });
});

describe("disconnect", () => {
  it("disconnects from the main namespace", async () => {
    // The official suite's raw socket does not answer pings: the session
    // then ends by ping timeout, the socket having left "/".
    const s = new RawSocket(`${WS_URL}/socket.io/?EIO=4&transport=websocket`);
    await s.next();
    s.send("40");
    await s.next();
    await s.next();
    s.send("41");
    await s.waitClose(2000);
  });

  it("connects then disconnects from a custom namespace", async () => {
    const s = await connected();
    s.send("40/custom");
    await s.next();
    await s.next();
    s.send("41/custom");
    s.send('42["message","message to main namespace"]');
    assert.equal(await s.next(), '42["message-back","message to main namespace"]');
    s.close();
  });
});

describe("message", () => {
  it("sends a plain-text packet", async () => {
    const s = await connected();
    s.send('42["message",1,"2",{"3":[true]}]');
    assert.equal(await s.next(), '42["message-back",1,"2",{"3":[true]}]');
    s.close();
  });

  it("sends a packet with binary attachments", async () => {
    const s = await connected();
    s.send('452-["message",{"_placeholder":true,"num":0},{"_placeholder":true,"num":1}]');
    s.send(Uint8Array.from([1, 2, 3]));
    s.send(Uint8Array.from([4, 5, 6]));
    assert.equal(await s.next(), '452-["message-back",{"_placeholder":true,"num":0},{"_placeholder":true,"num":1}]');
    assert.deepEqual(await s.next(), Buffer.from([1, 2, 3]));
    assert.deepEqual(await s.next(), Buffer.from([4, 5, 6]));
    s.close();
  });

  it("sends a plain-text packet with an ack", async () => {
    const s = await connected();
    s.send('42456["message-with-ack",1,"2",{"3":[false]}]');
    assert.equal(await s.next(), '43456[1,"2",{"3":[false]}]');
    s.close();
  });

  it("sends a packet with binary attachments and an ack", async () => {
    const s = await connected();
    s.send('452-789["message-with-ack",{"_placeholder":true,"num":0},{"_placeholder":true,"num":1}]');
    s.send(Uint8Array.from([1, 2, 3]));
    s.send(Uint8Array.from([4, 5, 6]));
    assert.equal(await s.next(), '462-789[{"_placeholder":true,"num":0},{"_placeholder":true,"num":1}]');
    assert.deepEqual(await s.next(), Buffer.from([1, 2, 3]));
    assert.deepEqual(await s.next(), Buffer.from([4, 5, 6]));
    s.close();
  });

  for (const [what, packet] of [
    ["unknown packet type", "4abc"],
    ["invalid payload format", "42{}"],
    ["invalid ack id", '42abc["message-with-ack",1,"2",{"3":[false]}]'],
    ["reserved event name", '42["disconnect"]'],
    ["event for a namespace not joined", '42/custom,["message"]'],
    ["second CONNECT to a joined namespace", "40"],
    ["binary data when no packet waits for it", Uint8Array.from([1])],
    ["too many attachments", '4511-["message"]'],
  ]) {
    it(`closes the connection upon ${what}`, async () => {
      const s = await connected();
      s.send(packet);
      await s.waitClose(1000);
    });
  }
});
