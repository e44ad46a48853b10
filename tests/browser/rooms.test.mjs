// Browser-only mesh rooms: the rooms page (examples/rooms-page) in several
// Chromium pages (one browser, one context per page, like separate
// browsers) through gst-mesh-server and the Node reference rooms server.
// One test per behaviour; each starts its own server and browser and stops
// them afterwards, also when it fails.
//
// Run:  node --test tests/browser/rooms.test.mjs      (from anywhere)
//   Outside the private network namespace the file re-runs itself through
//   tools/netns-run. Under meson: tools/netns-run meson test -C build browser-rooms
// Env:  GST_MESH_BUILD_DIR (default build/) or GST_MESH_GST_MESH_SERVER (the
//       binary), GST_MESH_TEST_SCALE (multiply every timeout, default 1),
//       GST_MESH_LEAVE_LIMIT_MS (how soon a closed page must be gone from
//       the others' grids, default 5000 × scale).
//
// "Page X decodes peer Y" is rooms-page.mjs's waitForMesh: X has exactly
// the expected tiles, presents frames of Y's video, and Y's connection
// reports video framesDecoded, audio packetsReceived and
// totalSamplesReceived that keep rising.

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

const SKIP = skipUnlessPresent([
  ["/usr/bin/chromium", "Chromium (tools/setup.sh)"],
  [path.join(ROOT, "tests", "node_modules", "playwright-core"), "tests/node_modules (tools/setup.sh)"],
  [R.CLIENT_SCRIPT, "tests/node_modules (tools/setup.sh)"],
  [R.meshServerBinary(), "gst-mesh-server (ninja -C build)"],
]);

// Generous: up to four Chromium pages share two loaded cores.
const MEDIA_TIMEOUT = ms(90000);
const TEST_TIMEOUT = ms(420000);
// peer-left comes from the server as soon as the page's WebSocket closes;
// the rest is the page removing a tile. Measured well under 1 s (see the
// test's diagnostic); the bound leaves room for a loaded machine.
const LEAVE_LIMIT_MS = Number(process.env.GST_MESH_LEAVE_LIMIT_MS ?? ms(5000));
// Chrome calls a connection failed ~15 s after its peer stops answering
// consent checks; then the offerer waits 1 s and offers again.
const FAIL_TIMEOUT = ms(60000);

// ---- the fixture ----

class Scenario {
  constructor({ node = false } = {}) {
    this.node = node;
    this.pages = [];
  }

  async start() {
    if (this.node) {
      this.server = await R.startNodeRoomsServer();
      this.static = await R.servePageDir();
      this.pageUrl = this.static.url;
      this.signal = this.server.url;
    } else {
      this.server = await R.startMeshServer();
      this.pageUrl = this.server.pageUrl;
      this.signal = null; // the page's own origin
    }
    this.browser = await R.launch();
    return this;
  }

  /** A page in @room; resolves to {page, id, uid}. */
  async join(room, opts = {}) {
    const page = await R.openRoomsPage(this.browser, this.pageUrl, { room, server: this.signal, ...opts });
    this.pages.push(page);
    const { id, uid } = await page.evaluate(() => ({ id: window.mesh.id, uid: window.mesh.uid }));
    return { page, id, uid };
  }

  async report() {
    const parts = [];
    for (const [i, p] of this.pages.entries()) {
      if (p.isClosed()) {
        parts.push(`--- page ${i}: closed`);
        continue;
      }
      const snap = await R.snapshot(p).catch((e) => `(${e.message})`);
      const log = await p.evaluate(() => window.mesh.log.slice(-40)).catch(() => []);
      parts.push(
        `--- page ${i}: ${JSON.stringify(snap)}\n  errors ${JSON.stringify(p.__errors)}\n  ${log.join("\n  ")}`,
      );
    }
    if (this.server) parts.push(`--- ${this.server.name} output (tail):\n${this.server.output().slice(-3000)}`);
    return parts.join("\n");
  }

  async close() {
    await this.browser?.close().catch(() => {});
    await this.static?.close().catch(() => {});
    return this.server?.stop();
  }
}

function scenario(name, fn, opts = {}) {
  test(name, { timeout: TEST_TIMEOUT, skip: SKIP }, async (t) => {
    const s = new Scenario(opts);
    let failed = false;
    try {
      await s.start();
      await fn(s, t);
      assert.ok(s.server.alive(), `${s.server.name} died during the test`);
    } catch (e) {
      failed = true;
      const report = await s.report().catch((r) => `(no report: ${r.message})`);
      e.message = `${e.message}\n${report}`;
      throw e;
    } finally {
      const r = await s.close();
      if (!failed && r) assert.equal(r.code, 0, `${s.server.name} exit ${JSON.stringify(r)}\n${s.server.output().slice(-3000)}`);
    }
  });
}

// ---- checks ----

/** Every page decodes every other one (and nobody else). */
async function meshFlows(members) {
  return Promise.all(
    members.map((m) =>
      R.waitForMesh(
        m.page,
        members.filter((o) => o !== m).map((o) => o.id),
        MEDIA_TIMEOUT,
      ),
    ),
  );
}

/** What a complete mesh of @members must look like beyond media flowing. */
async function checkGrid(members) {
  for (const m of members) {
    const others = members.filter((o) => o !== m);
    const state = await R.meshState(m.page);
    const grid = await R.tiles(m.page);
    // Each tile is labelled with its peer's id.
    for (const t of grid) assert.ok(t.caption.includes(t.peer), `tile caption "${t.caption}" names ${t.peer}`);
    // The grid re-lays itself: ceil(sqrt(n)) columns for n tiles.
    const layout = await m.page.evaluate(() => {
      const g = document.getElementById("remoteGrid");
      return { count: g.dataset.count, columns: getComputedStyle(g).gridTemplateColumns.split(" ").length };
    });
    assert.equal(layout.count, String(others.length));
    assert.equal(layout.columns, Math.ceil(Math.sqrt(others.length)), `columns for ${others.length} tiles`);
    // The newcomer offers: we offered to exactly those who were there first.
    for (const o of others) {
      assert.equal(state.peers[o.id].offerer, members.indexOf(m) > members.indexOf(o), `${m.id} offers to ${o.id}`);
      // uid: the other page's when the server passes it on, else unknown.
      const u = state.peers[o.id].uid;
      assert.ok(u === null || u === o.uid, `uid of ${o.id} is ${u}, its page says ${o.uid}`);
    }
    assert.deepEqual(state.errors, [], `server errors on ${m.id}`);
    assert.deepEqual(m.page.__errors, [], `page errors on ${m.id}`);
  }
}

// ---- tests ----

scenario("three pages in one room through gst-mesh-server each decode the two others", async (s) => {
  // The first through the UI (type the room, Start, Join), the others ?auto=1.
  const members = [await s.join("trio", { clicks: true }), await s.join("trio"), await s.join("trio")];
  await meshFlows(members);
  await checkGrid(members);
});

scenario("a fourth page joining late reaches everyone", async (s) => {
  const members = [await s.join("late"), await s.join("late"), await s.join("late")];
  await meshFlows(members);
  members.push(await s.join("late"));
  await meshFlows(members);
  await checkGrid(members);
});

scenario("a page that closes or leaves disappears from the others' grids", async (s, t) => {
  const members = [await s.join("bye"), await s.join("bye"), await s.join("bye")];
  await meshFlows(members);
  const [a, b, c] = members;

  // c closes its tab (its browser context): the others remove its tile and
  // close its connection.
  for (const m of [a, b]) await m.page.evaluate((id) => (window.__gone = window.meshControl.pc(id)), c.id);
  const closedAt = Date.now();
  await c.page.context().close();
  const delays = [];
  for (const m of [a, b]) {
    const left = await R.waitFor(
      m.page,
      (id) => !document.querySelector(`#remoteGrid .tile[data-peer="${id}"]`) && window.mesh.left[id],
      c.id,
      ms(30000),
      `${m.id}: tile of closed page ${c.id} still there`,
    );
    delays.push(left.at - closedAt);
    assert.equal(await m.page.evaluate(() => window.__gone.connectionState), "closed");
    assert.equal(await m.page.evaluate((id) => window.meshControl.pc(id), c.id), null);
  }
  t.diagnostic(`closed tab gone from the others' grids after ${delays.join(" / ")} ms`);
  for (const d of delays) assert.ok(d <= LEAVE_LIMIT_MS, `closed page removed after ${d} ms (limit ${LEAVE_LIMIT_MS})`);

  // b clicks Leave: a removes it; b's grid is empty, its connections closed.
  await b.page.evaluate((id) => (window.__gone = window.meshControl.pc(id)), a.id);
  const leftAt = Date.now();
  await b.page.click("#leaveButton");
  const left = await R.waitFor(
    a.page,
    (id) => !document.querySelector(`#remoteGrid .tile[data-peer="${id}"]`) && window.mesh.left[id],
    b.id,
    ms(30000),
    `${a.id}: tile of ${b.id} (Leave) still there`,
  );
  t.diagnostic(`Leave gone from the other's grid after ${left.at - leftAt} ms`);
  assert.ok(left.at - leftAt <= LEAVE_LIMIT_MS, `left page removed after ${left.at - leftAt} ms`);
  assert.deepEqual(await R.tiles(b.page), []);
  assert.equal(await b.page.evaluate(() => window.__gone.connectionState), "closed");
  assert.deepEqual(await R.tiles(a.page), []);
});

scenario("two rooms on one server do not see each other", async (s) => {
  const red = [await s.join("red"), await s.join("red")];
  const blue = [await s.join("blue"), await s.join("blue")];
  await Promise.all([meshFlows(red), meshFlows(blue)]);
  for (const [room, pair] of [["red", red], ["blue", blue]]) {
    for (const m of pair) {
      const state = await R.meshState(m.page);
      const partner = pair.find((o) => o !== m);
      assert.equal(state.room, room);
      // Nobody else ever showed up: one peer added, none left.
      assert.deepEqual(Object.keys(state.peers), [partner.id]);
      assert.deepEqual(state.left, {});
      assert.equal(state.log.filter((l) => / added \(/.test(l)).length, 1, state.log.join("\n"));
    }
  }
  await checkGrid(red);
  await checkGrid(blue);
});

scenario("the offering side offers again when a connection fails", async (s, t) => {
  const members = [await s.join("fail"), await s.join("fail")];
  await meshFlows(members);
  const [a, b] = members; // b came second, so b offered
  // a's media stack drops the connection while its socket stays in the
  // room (closing the RTCPeerConnection behind the page's back): b's side
  // goes disconnected, then failed, and b offers again on a new one.
  const brokeAt = Date.now();
  await a.page.evaluate((id) => window.meshControl.pc(id).close(), b.id);
  await R.waitFor(
    b.page,
    (id) => window.mesh.peers[id]?.restarts >= 1 && window.mesh.peers[id].state === "connected",
    a.id,
    FAIL_TIMEOUT,
    `${b.id} did not offer again to ${a.id}`,
  );
  t.diagnostic(`connection back ${Date.now() - brokeAt} ms after it was broken`);
  await meshFlows(members);
  const sa = await R.meshState(a.page);
  assert.equal(sa.peers[b.id].offerer, false);
  assert.ok(sa.peers[b.id].restarts >= 1, "a answered a new connection");
});

scenario(
  "three pages in one room through the Node rooms server each decode the two others",
  async (s) => {
    const members = [await s.join("trio"), await s.join("trio"), await s.join("trio")];
    await meshFlows(members);
    await checkGrid(members);
  },
  { node: true },
);
