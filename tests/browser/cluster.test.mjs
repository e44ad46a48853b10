// A mesh room spread over a cluster of signalling servers (issue 14,
// docs/protocol.md section 9): Debian's redis-server, two gst-mesh-servers
// and the Node reference examples/rooms-server with Socket.IO's own Redis
// adapter; four meshsignal pipelines (two on the first C server, one on
// each of the others) and the rooms page in Chromium (on the second C
// server, which serves it) join one room, and everyone decodes everyone.
//
//   tools/netns-run node --test tests/browser/cluster.test.mjs
// (it enters a private network namespace by itself when it can).

import { test } from "node:test";
import { skipUnlessPresent } from "./requires.mjs";
import assert from "node:assert/strict";
import path from "node:path";
import { fileURLToPath } from "node:url";
import { ms } from "./scale.mjs";

const HERE = path.dirname(fileURLToPath(import.meta.url));
const ROOT = path.resolve(HERE, "..", "..");

await (await import("./netns.mjs")).runInNetns();

const R = await import("./rooms-page.mjs");
const G = await import("./mesh-pipeline.mjs");
const { startServer, startRoomsReference } = await import("../node/server-helpers.mjs");
const { startRedis, REDIS_SERVER } = await import("../net/redis.mjs");

const SKIP = skipUnlessPresent([
  ["/usr/bin/chromium", "Chromium (tools/setup.sh)"],
  [REDIS_SERVER, "redis-server (tools/setup.sh)"],
  [R.CLIENT_SCRIPT, "tests/node_modules (tools/setup.sh)"],
  [R.meshServerBinary(), "gst-mesh-server (ninja -C build)"],
  [G.MESH_NODE, "tests/bench/mesh-node (ninja -C build)"],
]);

// five members, twenty media streams each way, on two loaded cores
const JOIN_TIMEOUT = ms(30000);
const MEDIA_TIMEOUT = ms(150000);

test("a room over two C servers and a Node server: four pipelines and a Chromium page, everyone decodes everyone", { timeout: ms(600000), skip: SKIP }, async () => {
  const redis = await startRedis();
  const servers = [
    await startServer("gst-mesh-server", ["--port", "0", "--address", "127.0.0.1", "--redis", redis.url]),
    await startServer("gst-mesh-server", [
      "--port",
      "0",
      "--address",
      "127.0.0.1",
      "--redis",
      redis.url,
      `--web-root=${R.PAGE_DIR}`,
      `--client-script=${R.CLIENT_SCRIPT}`,
    ]),
    await startRoomsReference([`--redis=${redis.url}`]),
  ];
  const room = `cluster-${Math.random().toString(36).slice(2, 8)}`;
  const pipes = [];
  let browser = null;
  let page = null;
  try {
    for (const s of servers.slice(0, 2)) {
      for (let i = 0; i < 100 && !/In the cluster on redis:/.test(s.output()); i++) await R.sleep(50);
      assert.match(s.output(), /In the cluster on redis:/);
    }
    for (const [i, s] of [servers[0], servers[0], servers[1], servers[2]].entries()) {
      const p = G.startRoomPipeline({ url: s.url, room, name: `gst${i + 1}`, pattern: i % 2 ? "ball" : "smpte", grid: { width: 320, height: 240 } });
      pipes.push(p);
      p.id = await p.waitForId(JOIN_TIMEOUT);
    }
    browser = await R.launch();
    page = await R.openRoomsPage(browser, `${servers[1].url}/`, { room });
    const pageId = await R.meshId(page);
    const all = [pageId, ...pipes.map((p) => p.id)];
    assert.equal(new Set(all).size, all.length, `distinct socket ids ${JSON.stringify(all)}`);
    const t0 = Date.now();
    await Promise.all([
      R.waitForMesh(
        page,
        pipes.map((p) => p.id),
        MEDIA_TIMEOUT,
      ),
      ...pipes.map(async (p) => {
        const others = all.filter((id) => id !== p.id);
        await p.waitForDecoding(others, MEDIA_TIMEOUT);
        await p.waitForRising(others, MEDIA_TIMEOUT);
      }),
    ]);
    console.log(`cluster room of 5 (2 + 1 + 1 pipelines over C, C, Node servers, a page on the second C): complete ${((Date.now() - t0) / 1000).toFixed(1)} s after the page joined`);
    for (const s of servers) assert.ok(s.alive(), "a server died");
  } catch (e) {
    const parts = [e.message];
    if (page) parts.push(`--- page: ${JSON.stringify(await R.snapshot(page).catch((x) => x.message))}\n${(await page.evaluate(() => window.mesh.log.slice(-30)).catch(() => [])).join("\n")}`);
    for (const p of pipes) parts.push(`--- ${p.name}: ${p.describe()}`);
    for (const s of servers) parts.push(`--- server:\n${s.output().slice(-2000)}`);
    e.message = parts.join("\n");
    throw e;
  } finally {
    for (const p of pipes) await p.stop();
    await browser?.close().catch(() => {});
    for (const s of servers) await s.stop();
    await redis.stop();
  }
});
