// gst-mesh-server behind Debian's nginx, in both configurations users run:
// nginx's defaults (HTTP/1.0 to the upstream, no Upgrade: long-polling
// only) and the one Socket.IO's documentation recommends (README.md). For
// each: 300 handshakes with "Connection: close" all answered, the official
// socket.io-client on the transport the proxy allows, and a real call
// through the proxy between the seed's page in Chromium and a meshsignal
// pipeline (gst-mesh-call), video and audio both ways.
//
// Run:  node --test tests/browser/proxy.test.mjs   (re-runs itself in the
//       private network namespace, as the other browser tests do)

import { test, describe, before, after } from "node:test";
import assert from "node:assert/strict";
import http from "node:http";
import path from "node:path";
import { existsSync } from "node:fs";
import { fileURLToPath } from "node:url";
import { SCALE } from "./scale.mjs";

const HERE = path.dirname(fileURLToPath(import.meta.url));
const ROOT = path.resolve(HERE, "..", "..");

await (await import("./netns.mjs")).runInNetns();

const { hasNginx, startNginx } = await import("../net/nginx.mjs");
const { once: onceWithin, startServer } = await import("../node/server-helpers.mjs");
const { startGstPeer, sleep } = await import("./gst-peer.mjs");
const { launch, clickStart, waitForRemoteMedia } = await import("./seed-page.mjs");
const { io } = await import("socket.io-client");

const CLIENT_SCRIPT = path.join(ROOT, "tests", "node_modules", "socket.io", "client-dist", "socket.io.js");
const SKIP = !hasNginx() ? "nginx is not installed (tools/setup.sh)" : !existsSync("/usr/bin/chromium") ? "no Chromium (tools/setup.sh)" : false;
const MEDIA_TIMEOUT = 45000 * SCALE;

const once = (s, ev, ms = 10000) => onceWithin(s, ev, ms);

function handshake(base) {
  const u = new URL(base);
  return new Promise((resolve, reject) => {
    http
      .get({ host: u.hostname, port: u.port, path: "/socket.io/?EIO=4&transport=polling", headers: { connection: "close" } }, (res) => {
        let body = "";
        res.on("data", (d) => (body += d));
        res.on("end", () => (res.statusCode === 200 && body.startsWith('0{"sid"') ? resolve() : reject(new Error(`HTTP ${res.statusCode}: ${body.slice(0, 80)}`))));
      })
      .on("error", reject);
  });
}

for (const kind of ["default", "socketio"]) {
  describe(`behind nginx, ${kind === "default" ? "default proxying (long-polling only)" : "Socket.IO's recommended configuration"}`, { skip: SKIP }, () => {
    let server, proxy, browser;
    before(async () => {
      server = await startServer("gst-mesh-server", [
        "--port", "0", "--address", "127.0.0.1", "--verbose",
        "--web-root", path.join(ROOT, "tests", "seed", "public"),
        "--client-script", CLIENT_SCRIPT,
        "--trusted-proxy", "127.0.0.2",
      ]);
      // nginx reaches the server from 127.0.0.2, the clients come from
      // 127.0.0.1: the server can tell them apart
      proxy = await startNginx({ upstreamPort: server.port, kind, bindAddress: "127.0.0.2" });
    });
    after(async () => {
      await browser?.close().catch(() => {});
      await proxy?.stop();
      await server?.stop();
    });

    test("300 handshakes with Connection: close, none lost", async () => {
      let failed = 0;
      const errors = [];
      for (let i = 0; i < 300; i++) {
        await handshake(proxy.url).catch((e) => {
          failed++;
          if (errors.length < 3) errors.push(e.message);
        });
      }
      assert.equal(failed, 0, `${failed}/300 failed: ${errors.join("; ")}`);
    });

    test(`socket.io-client relays on ${kind === "default" ? "long-polling" : "a WebSocket"}`, async () => {
      const a = io(proxy.url, { forceNew: true, reconnection: false });
      const b = io(proxy.url, { forceNew: true, reconnection: false });
      await Promise.all([once(a, "connect"), once(b, "connect")]);
      await sleep(1000); // time for an upgrade, if the proxy allows one
      const want = kind === "default" ? "polling" : "websocket";
      assert.equal(a.io.engine.transport.name, want);
      const got = once(b, "offer");
      a.emit("offer", { type: "offer", sdp: "through nginx" });
      assert.equal((await got)[0].sdp, "through nginx");
      a.close();
      b.close();
    });

    test("X-Forwarded-For: the proxy's entry is believed, the client's own is not", { skip: kind === "default" && "nginx's defaults send no X-Forwarded-For" }, async () => {
      const before = server.output().length;
      const r = await fetch(`${proxy.url}/socket.io/?EIO=4&transport=polling`, { headers: { "x-forwarded-for": "203.0.113.5" } });
      const sid = JSON.parse((await r.text()).slice(1)).sid;
      await fetch(`${proxy.url}/socket.io/?EIO=4&transport=polling&sid=${sid}`, { method: "POST", body: "40" });
      for (let i = 0; i < 40 && !/A user connected/.test(server.output().slice(before)); i++) await sleep(50);
      // nginx appended 127.0.0.1 (who sent it the request): that is the client
      assert.match(server.output().slice(before), /A user connected: \S+ \(127\.0\.0\.1\)/);
      await fetch(`${proxy.url}/socket.io/?EIO=4&transport=polling&sid=${sid}`, { method: "POST", body: "1" });
    });

    test("the seed's page in Chromium and a meshsignal pipeline call each other through it", async (t) => {
      browser = await launch();
      const context = await browser.newContext();
      const page = await context.newPage();
      await page.goto(proxy.url + "/");
      await page.waitForFunction(() => typeof socket !== "undefined" && socket.connected, null, { timeout: 20000, polling: 50 });
      await clickStart(page);
      const gst = startGstPeer({ server: proxy.url, role: "call", name: `gst-${kind}` });
      try {
        const [stats] = await Promise.all([waitForRemoteMedia(page, MEDIA_TIMEOUT), gst.waitForMedia(MEDIA_TIMEOUT)]);
        assert.ok(stats.videoWidth > 0, "the page shows the pipeline's video");
        assert.equal(await page.evaluate(() => socket.io.engine.transport.name), kind === "default" ? "polling" : "websocket");
        // which transport meshsignal went through, from nginx's access log
        // (a WebSocket is logged when it closes)
        await gst.stop();
        const want =
          kind === "default"
            ? /"POST \/socket\.io\/\?EIO=4&transport=polling&sid=\S+ HTTP\/1\.1" 200 .*gst-mesh\//
            : /"GET \/socket\.io\/\?EIO=4&transport=websocket HTTP\/1\.1" 101 .*gst-mesh\//;
        for (let i = 0; i < 40 && !want.test(proxy.accessLog()); i++) await sleep(100);
        assert.match(proxy.accessLog(), want, "meshsignal's requests in nginx's access log");
        // with X-Forwarded-For, the server logs the client's address, not
        // the proxy's; without it (nginx's defaults send none) the proxy's
        const addresses = [...server.output().matchAll(/A user connected: \S+ \((\S+)\)/g)].map((m) => m[1]);
        assert.deepEqual([...new Set(addresses)], [kind === "socketio" ? "127.0.0.1" : "127.0.0.2"]);
      } catch (e) {
        e.message += `\n--- pipeline:\n${gst.output()}\n--- nginx errors:\n${proxy.errorLog().slice(-2000)}`;
        throw e;
      } finally {
        await gst.stop();
        await context.close();
      }
    });
  });
}
