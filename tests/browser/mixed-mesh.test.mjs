// A mixed mesh (issue 5): two meshsignal pipelines (meshsignal room=R run
// by tests/bench/mesh-node, gst-launch-1.0 -m that can also print the
// element's stats) and two Chromium pages of the rooms page
// (examples/rooms-page) in one room of gst-mesh-server, each connected to
// the three others. Both join orders; then a page closes and the pipelines
// see it leave, then a pipeline stops and the others see it leave.
//
// Run:  node --test tests/browser/mixed-mesh.test.mjs      (from anywhere)
//   Outside the private network namespace the file re-runs itself through
//   tools/netns-run. Under meson: tools/netns-run meson test -C build browser-mixed-mesh
// Env:  GST_MESH_BUILD_DIR (default build/: gst-mesh-server, plugins/ and
//       tests/bench/mesh-node), GST_PLUGIN_PATH (default the build's
//       plugins/), GST_MESH_TEST_SCALE (multiply every timeout).
//
// "Page X decodes Y" is rooms-page.mjs's waitForMesh: exactly the expected
// tiles, frames of Y presented, and Y's inbound video framesDecoded, audio
// packetsReceived and totalSamplesReceived rising. "Pipeline X decodes Y"
// is mesh-pipeline.mjs's waitForDecoding then waitForRising: exactly the
// expected members (mesh-peer), the latest call to Y connected (mesh-call)
// with its first decoded video and audio (mesh-first-frame), and in the
// element's `stats` that call's video-frames-decoded and
// audio-buffers-decoded rising between two readings.

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

const PLUGIN = path.join(process.env.GST_PLUGIN_PATH ?? path.join(G.BUILD_DIR, "plugins"));
const SKIP = skipUnlessPresent([
  ["/usr/bin/chromium", "Chromium (tools/setup.sh)"],
  [path.join(ROOT, "tests", "node_modules", "playwright-core"), "tests/node_modules (tools/setup.sh)"],
  [R.CLIENT_SCRIPT, "tests/node_modules (tools/setup.sh)"],
  [R.meshServerBinary(), "gst-mesh-server (ninja -C build)"],
  [PLUGIN, "the plugin (ninja -C build)"],
  [G.MESH_NODE, "tests/bench/mesh-node (ninja -C build)"],
]);

// Generous: two Chromium pages and two pipelines, twelve media streams
// each way, share two loaded cores.
const JOIN_TIMEOUT = ms(30000);
const MEDIA_TIMEOUT = ms(120000);
const TEST_TIMEOUT = ms(480000);
// How long the complete mesh is held before the leave checks: every call
// must stay up (meshsignal ends a call after peer-timeout, 3 s, without
// RTP or RTCP; Chromium calls it failed after ~15 s without consent).
const HOLD_MS = ms(5000);
// peer-left comes from the server as soon as the page's WebSocket closes.
const LEAVE_TIMEOUT = ms(15000);

// ---- the fixture ----

class Mesh {
  constructor(room) {
    this.room = room;
    this.pages = []; // {page, id, uid, name}
    this.pipes = []; // mesh-pipeline.mjs objects, with .id
  }

  async start() {
    this.server = await R.startMeshServer();
    this.browser = await R.launch();
    return this;
  }

  async addPage() {
    const name = `page${this.pages.length + 1}`;
    const page = await R.openRoomsPage(this.browser, this.server.pageUrl, { room: this.room });
    const { id, uid } = await page.evaluate(() => ({ id: window.mesh.id, uid: window.mesh.uid }));
    const m = { name, page, id, uid };
    this.pages.push(m);
    return m;
  }

  async addPipeline(props = "") {
    const name = `gst${this.pipes.length + 1}`;
    const p = G.startRoomPipeline({
      url: this.server.url,
      room: this.room,
      name,
      props,
      // one pattern each, so a screenshot tells them apart
      pattern: this.pipes.length ? "ball" : "smpte",
      grid: { width: 320, height: 240 },
    });
    this.pipes.push(p);
    p.id = await p.waitForId(JOIN_TIMEOUT);
    return p;
  }

  /** Every member decodes every other one: ids of all, by name. */
  async complete() {
    const all = [...this.pages.map((m) => m.id), ...this.pipes.map((p) => p.id)];
    assert.equal(new Set(all).size, all.length, `distinct socket ids ${JSON.stringify(all)}`);
    await Promise.all([
      ...this.pages.map((m) =>
        R.waitForMesh(
          m.page,
          all.filter((id) => id !== m.id),
          MEDIA_TIMEOUT,
        ),
      ),
      ...this.pipes.map((p) => pipeDecodes(p, all.filter((id) => id !== p.id))),
    ]);
    return all;
  }

  /** The calls of each pipeline now: {pipeline name: {peer id: call-id}}. */
  callIds() {
    const out = {};
    for (const p of this.pipes) {
      out[p.name] = {};
      for (const id of p.peers()) out[p.name][id] = p.callTo(id)?.id ?? null;
    }
    return out;
  }

  async report() {
    const parts = [];
    for (const m of this.pages) {
      if (m.page.isClosed()) {
        parts.push(`--- ${m.name} ${m.id}: closed`);
        continue;
      }
      const snap = await R.snapshot(m.page).catch((e) => `(${e.message})`);
      const log = await m.page.evaluate(() => window.mesh.log.slice(-30)).catch(() => []);
      parts.push(`--- ${m.name}: ${JSON.stringify(snap)}\n  errors ${JSON.stringify(m.page.__errors)}\n  ${log.join("\n  ")}`);
    }
    for (const p of this.pipes) {
      const lines = p
        .output()
        .split("\n")
        .filter((l) => /mesh-|ERROR|WARNING|CRITICAL/.test(l))
        .slice(-40);
      parts.push(`--- ${p.name}: ${p.describe()}\n  ${lines.join("\n  ")}`);
    }
    if (this.server) parts.push(`--- ${this.server.name} output (tail):\n${this.server.output().slice(-3000)}`);
    return parts.join("\n");
  }

  async close() {
    const exits = await Promise.all(this.pipes.map((p) => p.stop()));
    await this.browser?.close().catch(() => {});
    return { exits, server: await this.server?.stop() };
  }
}

function scenario(name, fn) {
  test(name, { timeout: TEST_TIMEOUT, skip: SKIP }, async (t) => {
    const room = `mixed-${Math.random().toString(36).slice(2, 8)}`;
    const s = new Mesh(room);
    let failed = false;
    try {
      await s.start();
      await fn(s, t);
      assert.ok(s.server.alive(), "gst-mesh-server died during the test");
    } catch (e) {
      failed = true;
      const report = await s.report().catch((r) => `(no report: ${r.message})`);
      e.message = `${e.message}\n${report}`;
      throw e;
    } finally {
      const r = await s.close();
      if (!failed) {
        for (const [i, x] of r.exits.entries())
          assert.deepEqual(x, { code: 0, signal: null }, `${s.pipes[i].name} exit\n${s.pipes[i].output().slice(-3000)}`);
        assert.equal(r.server?.code, 0, `gst-mesh-server exit ${JSON.stringify(r.server)}`);
      }
    }
  });
}

/** Pipeline @p decodes exactly @ids, and goes on decoding each. */
async function pipeDecodes(p, ids) {
  await p.waitForDecoding(ids, MEDIA_TIMEOUT);
  return p.waitForRising(ids, MEDIA_TIMEOUT);
}

// ---- the checks after the mesh is complete ----

async function holdAndLeave(s, t) {
  // Held: nobody's call is replaced or ended, no errors anywhere.
  const before = s.callIds();
  await R.sleep(HOLD_MS);
  await Promise.all(
    s.pages.map((m) =>
      R.waitForMesh(
        m.page,
        [...s.pages, ...s.pipes].filter((o) => o.id !== m.id).map((o) => o.id),
        MEDIA_TIMEOUT,
      ),
    ),
  );
  await Promise.all(s.pipes.map((p) => pipeDecodes(p, [...s.pages, ...s.pipes].filter((o) => o !== p).map((o) => o.id))));
  assert.deepEqual(s.callIds(), before, "a pipeline's call was replaced while the mesh was held");
  for (const p of s.pipes) {
    for (const id of p.peers()) assert.equal(p.callTo(id).state, "connected", `${p.name}'s call to ${id}`);
    assert.deepEqual(p.errors(), [], `${p.name} errors`);
  }
  for (const m of s.pages) {
    assert.deepEqual(m.page.__errors, [], `${m.name} page errors`);
    assert.deepEqual((await R.meshState(m.page)).errors, [], `${m.name} server errors`);
  }

  // page2 closes its tab: both pipelines see mesh-peer left for it and end
  // its call; page1 removes its tile.
  const [page1, page2] = s.pages;
  const closedAt = Date.now();
  await page2.page.context().close();
  const seen = await Promise.all(s.pipes.map((p) => p.waitForLeft(page2.id, LEAVE_TIMEOUT)));
  t.diagnostic(`pipelines saw ${page2.name} leave after ${seen.map((at) => at - closedAt).join(" / ")} ms`);
  for (const p of s.pipes) {
    await p.waitFor(() => p.callTo(page2.id)?.state === "ended", LEAVE_TIMEOUT, `call to ${page2.id} ended`);
    assert.deepEqual(p.peers(), [page1.id, ...s.pipes.filter((o) => o !== p).map((o) => o.id)].sort());
  }
  await R.waitFor(
    page1.page,
    (id) => !document.querySelector(`#remoteGrid .tile[data-peer="${id}"]`) && window.mesh.left[id],
    page2.id,
    LEAVE_TIMEOUT,
    `${page1.name}: tile of closed ${page2.name} still there`,
  );

  // The rest still decode each other (nobody else was disturbed) ...
  const rest = [page1, ...s.pipes];
  await R.waitForMesh(
    page1.page,
    s.pipes.map((p) => p.id),
    MEDIA_TIMEOUT,
  );
  for (const p of s.pipes) await pipeDecodes(p, rest.filter((o) => o !== p).map((o) => o.id));

  // ... and when gst2 stops, gst1 and page1 see it leave.
  const [gst1, gst2] = s.pipes;
  assert.deepEqual(await gst2.stop(), { code: 0, signal: null }, `gst2 exit\n${gst2.output().slice(-3000)}`);
  await gst1.waitForLeft(gst2.id, LEAVE_TIMEOUT);
  await R.waitFor(
    page1.page,
    (id) => !document.querySelector(`#remoteGrid .tile[data-peer="${id}"]`) && window.mesh.left[id],
    gst2.id,
    LEAVE_TIMEOUT,
    `${page1.name}: tile of stopped gst2 still there`,
  );
  await R.waitForMesh(page1.page, [gst1.id], MEDIA_TIMEOUT);
  await pipeDecodes(gst1, [page1.id]);
}

// ---- tests ----

scenario("pipelines first: two pipelines, then two pages, all four decode each other", async (s, t) => {
  const [a, b] = [await s.addPipeline(), await s.addPipeline()];
  await pipeDecodes(a, [b.id]);
  await pipeDecodes(b, [a.id]);
  const t0 = Date.now();
  await s.addPage();
  await s.addPage();
  await s.complete();
  t.diagnostic(`mesh of 4 complete ${Date.now() - t0} ms after the first page opened`);
  // The newcomer offers: the pipelines answered both pages.
  for (const p of s.pipes)
    for (const m of s.pages)
      assert.equal((await R.meshState(m.page)).peers[p.id].offerer, true, `${m.name} offered to ${p.name}`);
  await holdAndLeave(s, t);
});

scenario("pages first: two pages, then two pipelines, all four decode each other", async (s, t) => {
  await s.addPage();
  await s.addPage();
  const [p1, p2] = s.pages;
  await Promise.all([R.waitForMesh(p1.page, [p2.id], MEDIA_TIMEOUT), R.waitForMesh(p2.page, [p1.id], MEDIA_TIMEOUT)]);
  const t0 = Date.now();
  await s.addPipeline();
  await s.addPipeline();
  await s.complete();
  t.diagnostic(`mesh of 4 complete ${Date.now() - t0} ms after the first pipeline started`);
  // The pipelines offered to the pages (they came later).
  for (const p of s.pipes)
    for (const m of s.pages)
      assert.equal((await R.meshState(m.page)).peers[p.id].offerer, false, `${p.name} offered to ${m.name}`);
  // Each pipeline has the uid of each page (passed on by the server).
  for (const p of s.pipes) for (const m of s.pages) assert.equal(p.state.members.get(m.id).uid, m.uid);
  await holdAndLeave(s, t);
});

scenario("a pipeline at max-peers tells a page that calls it that it is busy", async (s, t) => {
  const full = await s.addPipeline("max-peers=1");
  const other = await s.addPipeline();
  await pipeDecodes(full, [other.id]);
  const page = await s.addPage();
  // The page offers to both: the full pipeline hangs up with "busy" at
  // once (the page stops calling it), the other answers.
  await R.waitFor(
    page.page,
    (id) => window.mesh.peers[id]?.state === "hung up: busy",
    full.id,
    JOIN_TIMEOUT,
    `${page.name}: no "busy" from ${full.name}`,
  );
  await R.waitFor(
    page.page,
    (id) => window.mesh.peers[id]?.state === "connected",
    other.id,
    MEDIA_TIMEOUT,
    `${page.name}: no call with ${other.name}`,
  );
  await pipeDecodes(other, [full.id, page.id]);
  // Held: the full pipeline kept its call and warned once; the page did
  // not call it again (that would show as "calling").
  await R.sleep(HOLD_MS);
  const warned = full.events.filter((e) => e.type === "warning" && /max-peers/.test(e.text));
  assert.equal(warned.length, 1, `${full.name} warnings:\n${warned.map((e) => e.text).join("\n")}`);
  assert.equal(full.callTo(other.id).state, "connected");
  assert.equal((await R.meshState(page.page)).peers[full.id].state, "hung up: busy");
});
