// NAT traversal, tested in the simulated Internet of tests/net/internet:
// meshsignal pipelines (gst-mesh-call) and the seed's page in Chromium,
// each on a host behind its own home router, reach each other through
// STUN (cone NATs) or coturn's relay (symmetric NATs, TCP only, TLS on 443
// with UDP blocked), through the seed's server and through gst-mesh-server
// (a room of three, with TURN REST credentials it hands out).
//
// Every cell asserts the candidate types of the pair ICE chose (the
// pipeline's mesh-ice-path, the page's getStats), so a relayed call cannot
// hide a broken STUN path, and records how long the call took to show the
// first frame. The table of all cells is printed at the end (and written
// as JSON to $MESH_NET_RESULTS when set: tests/net/README.md's table).
//
// Run:  node --test tests/net/nat.test.mjs      (as root, from anywhere)
//   Outside the simulated Internet the file re-runs itself inside one.
// Env:  GST_MESH_BUILD_DIR, GST_MESH_TEST_SCALE (multiplies timeouts),
//       GST_MESH_TEST_DEBUG (GST_DEBUG for the pipelines).

import { test, after } from "node:test";
import assert from "node:assert/strict";
import { existsSync, writeFileSync } from "node:fs";
import path from "node:path";
import { fileURLToPath } from "node:url";
import { ms } from "../browser/scale.mjs";

const HERE = path.dirname(fileURLToPath(import.meta.url));
const ROOT = path.resolve(HERE, "..", "..");
const SECRET = "mesh-test-secret";

const { runInInternet, setNat, setUdp, setCut, rebind, readdr, net, inHome, launchChromiumIn, useIceServers, pageIcePath, PUBLIC } =
  await import("./internet.mjs");
await runInInternet({ homes: 3, nat: "cone", turnSecret: SECRET });

const { startGstPeer, startSeedServer, sleep, BUILD_DIR } = await import("../browser/gst-peer.mjs");
const { servePage } = await import("../seed/serve-page.mjs");
const { clickStart, clickCall, waitForRemoteMedia, installTimingHooks, timing, videoHoldMs, remoteStats } = await import(
  "../browser/seed-page.mjs"
);
const { startMeshServer, openRoomsPage, waitForMesh, meshId, meshStats } = await import("../browser/rooms-page.mjs");

const SEED = `http://${PUBLIC}:4000`;
const STUN = `stun:${PUBLIC}:3478`;
const TURN_UDP = `turn://u:p@${PUBLIC}:3478?transport=udp`;
const TURN_TCP = `turn://u:p@${PUBLIC}:3478?transport=tcp`;
// TURN over TLS at an address of its own, on 443 (tests/net/internet)
const TURN443_HOST = "203.0.113.2";
const TURNS_443 = `turns://u:p@${TURN443_HOST}:443`;
// the site's HTTPS port: the page server (which also proxies socket.io)
const SITE_443 = `http://${PUBLIC}:443`;

const results = [];
const record = (cell, pair, ms, localType, remoteType, relayProtocol = "") =>
  results.push({ cell, pair, ms, path: `${localType}${relayProtocol ? "/" + relayProtocol : ""} -> ${remoteType}` });

// ---- fixtures -----------------------------------------------------------

const seed = await startSeedServer();
const pageServer = await servePage({ port: 0, host: PUBLIC, seed: "http://127.0.0.1:4000" });
net("web443", String(pageServer.port));
const browsers = {};
async function browserIn(home) {
  browsers[home] ??= await launchChromiumIn(home, [pageServer.url.replace(/\/$/, ""), SITE_443]);
  return browsers[home];
}

after(async () => {
  for (const b of Object.values(browsers)) await b.close().catch(() => {});
  await pageServer.close();
  await seed.stop();
  const rows = results.map((r) => `| ${r.cell} | ${r.pair} | ${r.ms} | ${r.path} |`);
  console.log(["| cell | pair | first frame (ms) | path (caller side) |", "|---|---|---|---|", ...rows].join("\n"));
  if (process.env.MESH_NET_RESULTS) writeFileSync(process.env.MESH_NET_RESULTS, JSON.stringify(results, null, 1));
});

/** A pipeline on @home calling (or waiting) through the seed's server. */
function gst(home, role, props, extra = {}) {
  return startGstPeer({ prefix: inHome(home), server: SEED, role, name: `${home}-${role}`, props, ...extra });
}

/** A pipeline on a home that may only use TCP 443: through the site's 443. */
const gst443 = (home, role, props) => gst(home, role, props, { server: SITE_443 });

/** The seed page on @home, its RTCPeerConnection given @ice. */
async function seedPage(home, ice, { url = pageServer.url, ...opts } = {}) {
  const context = await (await browserIn(home)).newContext();
  const page = await context.newPage();
  await useIceServers(page, ice, opts);
  await installTimingHooks(page);
  await page.goto(url);
  await page.waitForFunction(() => typeof socket !== "undefined" && socket.connected, null, {
    timeout: ms(15000),
    polling: 50,
  });
  await clickStart(page);
  return page;
}

async function stopAll(gsts, pages) {
  for (const g of gsts) await g.stop();
  for (const p of pages) await p.context().close().catch(() => {});
  // the seed server relays to every socket: let the old ones go first
  await sleep(300);
}

async function failReport(gsts, e) {
  const out = gsts.map((g) => `--- ${g.name}:\n${g.output()}`).join("\n");
  e.message += `\n${out}`;
  throw e;
}

const pathOf = (g) => g.waitFor((e) => e.type === "path", ms(30000), { what: "ICE path" });
const firstFrame = (g) => g.waitFor((e) => e.type === "first-frame" && e.media === "video", ms(30000));

/** Two pipelines call; returns the caller's path and first frame. */
async function gstPair(cell, homes, props, check, { callerVia443 = false, server = null, pair = "meshsignal -> meshsignal" } = {}) {
  const a = server ? gst(homes[0], "wait", props[0], { server }) : gst(homes[0], "wait", props[0]);
  await a.waitFor((e) => e.type === "signalling" && e.state === "connected", ms(15000));
  const b = server
    ? gst(homes[1], "call", props[1], { server })
    : (callerVia443 ? gst443 : gst)(homes[1], "call", props[1]);
  try {
    const pb = await pathOf(b);
    const pa = await pathOf(a);
    const ff = await firstFrame(b);
    await a.waitForMedia(ms(20000));
    await b.waitForMedia(ms(20000));
    check(pb, pa);
    record(cell, pair, ff.sinceCallMs, pb.localType, pb.remoteType, pb.relayProtocol);
  } catch (e) {
    await failReport([a, b], e);
  } finally {
    await stopAll([a, b], []);
  }
}

/** Two seed pages; the one on homes[1] calls. */
async function pagePair(cell, homes, ice, check, opts = {}) {
  const a = await seedPage(homes[0], ice[0], opts);
  const b = await seedPage(homes[1], ice[1], opts);
  try {
    await clickCall(b);
    await waitForRemoteMedia(b, ms(30000));
    await waitForRemoteMedia(a, ms(30000));
    const pb = await pageIcePath(b);
    const pa = await pageIcePath(a);
    check(pb, pa);
    const t = await timing(b);
    record(cell, "page -> page", t.firstFrame - t.callClick, pb.localType, pb.remoteType, pb.relayProtocol);
  } finally {
    await stopAll([], [a, b]);
  }
}

/** The seed page on homes[1] calls a pipeline waiting on homes[0]. */
async function mixedPair(cell, homes, props, ice, check, opts = {}) {
  const g = gst(homes[0], "wait", props);
  await g.waitFor((e) => e.type === "signalling" && e.state === "connected", ms(15000));
  const p = await seedPage(homes[1], ice, opts);
  try {
    await clickCall(p);
    await waitForRemoteMedia(p, ms(30000));
    await g.waitForMedia(ms(20000));
    const pp = await pageIcePath(p);
    const pg = await pathOf(g);
    check(pp, pg);
    const t = await timing(p);
    record(cell, "page -> meshsignal", t.firstFrame - t.callClick, pp.localType, pp.remoteType, pp.relayProtocol);
  } catch (e) {
    await failReport([g], e);
  } finally {
    await stopAll([g], [p]);
  }
}

/** Each room pipeline's socket id, once its signalling is connected. */
async function socketIds(peers) {
  const ids = [];
  for (const p of peers) {
    const e = await p.waitFor((e) => e.type === "signalling" && e.state === "connected", ms(15000));
    ids.push(/ as (\S+)$/.exec(e.detail)[1]);
  }
  return ids;
}

/** The middle value (the upper one of an even count). */
const median = (a) => [...a].sort((x, y) => x - y)[a.length >> 1];

/** A room pipeline receives video from @n peers. */
const roomMedia = (p, n) => p.waitForRoomVideo(n, ms(20000));

const REFLEXIVE = ["srflx", "prflx"];
const noRelay = (...paths) => {
  for (const p of paths) {
    assert.ok(p, "no selected pair");
    assert.notEqual(p.localType, "relay", `relayed: ${JSON.stringify(p)}`);
    assert.notEqual(p.remoteType, "relay", `relayed: ${JSON.stringify(p)}`);
    // two homes behind NATs: only the mapped addresses reach each other
    assert.ok(REFLEXIVE.includes(p.localType) || REFLEXIVE.includes(p.remoteType), `not via NAT: ${JSON.stringify(p)}`);
  }
};
const relayed = (...paths) => {
  for (const p of paths) {
    assert.ok(p, "no selected pair");
    assert.ok(p.localType === "relay" || p.remoteType === "relay", `not relayed: ${JSON.stringify(p)}`);
  }
};
const relayedOver = (proto) => (p) => {
  relayed(p);
  assert.equal(p.localType, "relay", `local side not relayed: ${JSON.stringify(p)}`);
  assert.equal(p.relayProtocol, proto, `relayed over ${p.relayProtocol}, not ${proto}`);
};

// ---- cone NATs: STUN alone ---------------------------------------------

test("cone <-> cone via STUN: hole punching, no relay", async () => {
  setNat("h1", "cone");
  setNat("h2", "cone");
  const props = `stun-server=${STUN}`;
  await gstPair("cone/cone, STUN", ["h1", "h2"], [props, props], noRelay);
  await pagePair("cone/cone, STUN", ["h1", "h2"], [[{ urls: STUN }], [{ urls: STUN }]], noRelay);
  await mixedPair("cone/cone, STUN", ["h1", "h2"], props, [{ urls: STUN }], noRelay);
});

test("port-restricted cone <-> cone via STUN", async () => {
  setNat("h1", "port-restricted");
  setNat("h2", "cone");
  const props = `stun-server=${STUN}`;
  await gstPair("port-restricted/cone, STUN", ["h1", "h2"], [props, props], noRelay);
  await mixedPair("port-restricted/cone, STUN", ["h1", "h2"], props, [{ urls: STUN }], noRelay);
});

// ---- symmetric NATs: TURN ------------------------------------------------

test("symmetric <-> symmetric via TURN over UDP", async () => {
  setNat("h1", "symmetric");
  setNat("h2", "symmetric");
  const props = `stun-server=${STUN} turn-server=${TURN_UDP}`;
  const ice = [{ urls: STUN }, { urls: `turn:${PUBLIC}:3478?transport=udp`, username: "u", credential: "p" }];
  await gstPair("symmetric/symmetric, TURN/UDP", ["h1", "h2"], [props, props], relayed);
  await pagePair("symmetric/symmetric, TURN/UDP", ["h1", "h2"], [ice, ice], relayed);
  await mixedPair("symmetric/symmetric, TURN/UDP", ["h1", "h2"], props, ice, relayed);
});

test("cone <-> cone via STUN and symmetric <-> symmetric via TURN, 1:1 through gst-mesh-server", async () => {
  const server = await startMeshServer({ args: ["--address=0.0.0.0"] });
  const url = `http://${PUBLIC}:${server.port}`;
  try {
    setNat("h1", "cone");
    setNat("h2", "cone");
    const stun = `stun-server=${STUN}`;
    await gstPair("cone/cone, STUN", ["h1", "h2"], [stun, stun], noRelay, {
      server: url,
      pair: "meshsignal -> meshsignal, gst-mesh-server",
    });
    setNat("h1", "symmetric");
    setNat("h2", "symmetric");
    const turn = `stun-server=${STUN} turn-server=${TURN_UDP}`;
    await gstPair("symmetric/symmetric, TURN/UDP", ["h1", "h2"], [turn, turn], relayed, {
      server: url,
      pair: "meshsignal -> meshsignal, gst-mesh-server",
    });
  } finally {
    await server.stop();
  }
});

test("symmetric <-> cone via TURN over TCP only (relay policy)", async () => {
  setNat("h1", "cone");
  setNat("h2", "symmetric");
  const props = `turn-servers=<"${TURN_TCP}"> ice-transport-policy=relay`;
  const ice = [{ urls: `turn:${PUBLIC}:3478?transport=tcp`, username: "u", credential: "p" }];
  await gstPair("symmetric/cone, TURN/TCP, relay only", ["h1", "h2"], [props, props], (pb, pa) => {
    relayed(pb, pa);
    assert.equal(pb.localType, "relay");
    assert.equal(pa.localType, "relay");
  });
  await mixedPair("symmetric/cone, TURN/TCP, relay only", ["h1", "h2"], props, ice, (pp, pg) => {
    relayedOver("tcp")(pp);
    assert.equal(pg.localType, "relay");
  }, { relayOnly: true });
});

test("UDP blocked (TCP 443 only) <-> symmetric via TURN over TLS on 443", async () => {
  setNat("h1", "symmetric");
  setNat("h2", "cone");
  setUdp("h2", false);
  try {
    const blocked = `turn-servers=<"${TURNS_443}">`;
    const open = `stun-server=${STUN} turn-server=${TURN_UDP}`;
    // the blocked home calls: its only way out is TLS to 443
    await gstPair(
      "UDP blocked/symmetric, TURN/TLS 443",
      ["h1", "h2"],
      [open, blocked],
      (pb) => assert.equal(pb.localType, "relay", `the blocked side is not relayed: ${JSON.stringify(pb)}`),
      { callerVia443: true },
    );
    const ice = [{ urls: `turns:${TURN443_HOST}:443?transport=tcp`, username: "u", credential: "p" }];
    await mixedPair("UDP blocked/symmetric, TURN/TLS 443", ["h1", "h2"], open, ice, relayedOver("tls"), {
      url: `${SITE_443}/`,
    });
  } finally {
    setUdp("h2", true);
  }
});

// ---- gst-mesh-server: a room of three, TURN REST credentials ----------

test("a room of three (two pipelines behind symmetric NATs, a rooms page) through gst-mesh-server, TURN credentials from the server", async () => {
  setNat("h1", "symmetric");
  setNat("h2", "symmetric");
  setNat("h3", "cone");
  // the pipelines and the page are given no ICE server: all they have is
  // what the server hands out, and the coturn on 3479 takes only REST
  // credentials made with SECRET
  const server = await startMeshServer({
    args: [
      "--address=0.0.0.0",
      `--turn-secret=${SECRET}`,
      `--turn-url=stun:${PUBLIC}:3479`,
      `--turn-url=turn:${PUBLIC}:3479?transport=udp`,
      "--turn-ttl=600",
    ],
  });
  const url = `http://${PUBLIC}:${server.port}`;
  const peers = ["h1", "h2"].map((h) => startGstPeer({ prefix: inHome(h), server: url, room: "nat", name: `${h}-room` }));
  let page = null;
  try {
    const ids = await socketIds(peers);
    const browser = await launchChromiumIn("h3", [url]);
    browsers.h3room = browser;
    page = await openRoomsPage(browser, `${url}/`, { room: "nat" });
    await waitForMesh(page, ids, ms(40000));
    const calls = (p) => new Set(p.all("path").map((e) => e.id)).size;
    for (const p of peers) await p.waitFor(() => calls(p) >= 2, ms(40000), { what: "paths of two calls" });
    for (const p of peers) await roomMedia(p, 2);
    const paths = peers.map((p) => p.all("path"));
    // h1 and h2 are both symmetric: their call is relayed
    const between = paths[0].filter((e) => e.localType === "relay" || e.remoteType === "relay");
    assert.ok(between.length >= 1, `h1's calls: ${JSON.stringify(paths[0])}`);
    // the page behind a cone NAT reaches both by their mapped addresses
    assert.equal(await page.evaluate(() => window.mesh.iceServers), 2, "the page did not take the server's ICE servers");
    for (const id of ids) {
      const pp = await pageIcePath(page, `window.meshControl.pc(${JSON.stringify(id)})`);
      assert.ok(pp, `no pair for ${id}`);
      record("room of 3: symmetric, symmetric, cone (page); REST credentials", `page -> meshsignal ${id.slice(0, 6)}`, "-", pp.localType, pp.remoteType, pp.relayProtocol);
    }
    for (const p of peers) assert.equal(p.all("warning").length, 0, `${p.name} warned: ${JSON.stringify(p.all("warning"))}`);
    for (const [i, ps] of paths.entries())
      for (const e of ps)
        record("room of 3: symmetric, symmetric, cone (page); REST credentials", `meshsignal h${i + 1} call ${e.id}`, "-", e.localType, e.remoteType, e.relayProtocol);
  } catch (e) {
    await failReport(peers, e);
  } finally {
    if (page) await page.context().close().catch(() => {});
    for (const p of peers) await p.stop();
    await server.stop();
  }
});

// ---- a room whose members' links differ (issue 17) ----------------------

/** The status lines of a room pipeline: each second, the encoders' rates
 * and, per peer, frames decoded and whether it is sent the low encoding. */
function roomStatus(p) {
  return p
    .all("other")
    .map((e) => /^video sent\s+\d+ fps at (\d+) kbit\/s(?: \(low: (\d+) kbit\/s\))?; \d+ peers:(.*)$/.exec(e.text ?? ""))
    .filter(Boolean)
    .map((m) => ({
      main: Number(m[1]),
      low: m[2] ? Number(m[2]) : 0,
      peers: Object.fromEntries(
        [...m[3].matchAll(/ (\S+) (\S+)\s+(\d+) fps( \(sent low\))?/g)].map((x) => [x[1], { fps: Number(x[3]), low: !!x[4] }]),
      ),
    }));
}

test("a room of three, one member behind a 500 kbit/s link: it is sent a low encoding, the other two keep the full one", async () => {
  for (const h of ["h1", "h2", "h3"]) setNat(h, "cone");
  net("rate", "h1", "500");
  const server = await startMeshServer({ args: ["--address=0.0.0.0"] });
  const url = `http://${PUBLIC}:${server.port}`;
  const props = `stun-server=${STUN}`;
  const homes = ["h2", "h3", "h1"];
  const peers = homes.map((h) => startGstPeer({ prefix: inHome(h), server: url, room: "cap", name: `${h}-cap`, props, speed: 4 }));
  const [h2, h3, h1] = peers;
  try {
    const ids = Object.fromEntries((await socketIds(peers)).map((id, i) => [homes[i], id]));
    // the two on clean links send h1 the low encoding, and each other the main one
    for (const [p, other] of [[h2, "h3"], [h3, "h2"]]) {
      await p.waitFor(
        () => {
          const s = roomStatus(p).at(-1);
          return s && s.peers[ids.h1]?.low && s.peers[ids[other]] && !s.peers[ids[other]].low;
        },
        ms(40000),
        { what: "h1 on the low encoding" },
      );
    }
    // h1 settles: both pictures moving for three seconds in a row
    let good = 0;
    await h1.waitFor(
      () => {
        const s = roomStatus(h1).at(-1);
        const fps = s ? [ids.h2, ids.h3].map((id) => s.peers[id]?.fps ?? 0) : [0];
        good = fps.every((f) => f >= 10) ? good + 1 : 0;
        return good >= 3;
      },
      ms(40000),
      { what: "video from both at h1" },
    );
    const from = roomStatus(h1).length;
    const fromMain = roomStatus(h2).length;
    await sleep(ms(10000));
    const h1s = roomStatus(h1).slice(from);
    const h2s = roomStatus(h2).slice(fromMain);
    assert.ok(h1s.length >= 8, `${h1s.length} status lines from h1 in 10 s`);
    for (const id of [ids.h2, ids.h3]) {
      const fps = h1s.map((s) => s.peers[id]?.fps ?? 0);
      // both pictures get through: one encoding at the fast pair's rate
      // (over 2 Mbit/s) let nothing through (0 fps). How close to every
      // frame it comes is the benchmark's figure (tests/bench/README.md),
      // not a test's: two senders share the cap, and it depends on time.
      const sum = fps.reduce((a, b) => a + b, 0);
      assert.ok(sum >= 3 * h1s.length, `h1's video from ${id}, fps each second: ${fps}`);
    }
    // the fast pair is not held down to what reaches h1
    const mains = h2s.map((s) => s.main), lows = h2s.map((s) => s.low);
    assert.ok(median(lows) > 0 && median(mains) >= 2 * median(lows) && median(mains) >= 800,
      `h2's encoders (kbit/s): main ${mains}, low ${lows}`);
    const fast = h2s.map((s) => s.peers[ids.h3]?.fps ?? 0);
    assert.ok(fast.every((f) => f > 0) && h2s.every((s) => !s.peers[ids.h3]?.low), `h2's video from h3: ${fast}`);
    console.log(`capped room: h2's encoders main ${median(mains)} / low ${median(lows)} kbit/s (medians); h1's fps from h2 ${h1s.map((s) => s.peers[ids.h2]?.fps)}, from h3 ${h1s.map((s) => s.peers[ids.h3]?.fps)}`);
  } catch (e) {
    await failReport(peers, e);
  } finally {
    net("rate", "h1", "off");
    for (const p of peers) await p.stop();
    await server.stop();
  }
});

test("the slow member is a rooms page in Chromium: the pipelines send it the low encoding on its feedback, and it shows both", async () => {
  for (const h of ["h1", "h2", "h3"]) setNat(h, "none");
  net("rate", "h1", "500");
  const server = await startMeshServer({ args: ["--address=0.0.0.0"] });
  const url = `http://${PUBLIC}:${server.port}`;
  const homes = ["h2", "h3"];
  const peers = homes.map((h) => startGstPeer({ prefix: inHome(h), server: url, room: "cap-page", name: `${h}-cap-page`, speed: 4 }));
  let page = null;
  try {
    const ids = await socketIds(peers);
    const browser = await launchChromiumIn("h1", [url]);
    browsers.h1cap = browser;
    page = await openRoomsPage(browser, `${url}/`, { room: "cap-page" });
    const pageId = await meshId(page);
    await waitForMesh(page, ids, ms(40000));
    // Chromium's transport-cc feedback is what tells each pipeline that
    // the page's link is narrow
    for (const p of peers)
      await p.waitFor(() => roomStatus(p).at(-1)?.peers[pageId]?.low, ms(40000), { what: "the page on the low encoding" });
    // The main encoder followed the page down until the page left it; from
    // there it climbs back as h3's estimate grows (at most 8 %/s when the
    // estimate itself was pulled down, as on a loaded machine). The claim is
    // that it gets back up, not how fast: the settling time is printed.
    const lowAt = Date.now();
    await peers[0].waitFor(() => (roomStatus(peers[0]).at(-1)?.main ?? 0) >= 800, ms(40000),
      { what: "h2's main encoder back over 800 kbit/s" }).catch((e) => {
      throw new Error(`${e.message}; its last rates (kbit/s): ${roomStatus(peers[0]).slice(-15).map((s) => s.main)}`);
    });
    const settled = (Date.now() - lowAt) / 1000;
    const from = roomStatus(peers[0]).length;
    const before = await meshStats(page);
    await sleep(ms(10000));
    const after = await meshStats(page);
    for (const id of ids) {
      const frames = (after[id]?.framesDecoded ?? 0) - (before[id]?.framesDecoded ?? 0);
      assert.ok(frames >= 30, `the page decoded ${frames} frames from ${id} in 10 s`);
    }
    const h2s = roomStatus(peers[0]).slice(from);
    const mains = h2s.map((s) => s.main);
    assert.ok(median(mains) >= 800, `h2's main encoder (kbit/s): ${mains}`);
    assert.ok(h2s.every((s) => s.peers[ids[1]] && !s.peers[ids[1]].low), "h3 was sent the low encoding");
    console.log(`capped page: the page decoded ${ids.map((id) => (after[id]?.framesDecoded ?? 0) - (before[id]?.framesDecoded ?? 0))} frames in 10 s; h2's main encoder ${median(mains)} kbit/s, low ${median(h2s.map((s) => s.low))}, back over 800 kbit/s ${settled.toFixed(1)} s after the page left it`);
  } catch (e) {
    await failReport(peers, e);
  } finally {
    net("rate", "h1", "off");
    if (page) await page.context().close().catch(() => {});
    for (const p of peers) await p.stop();
    await server.stop();
  }
});

/** The seed's page on h2 calls a pipeline waiting on h1, until the
 * pipeline shows its video; @call gets g and p as they start (for the
 * caller's clean-up). */
async function pageCallsPipeline(call) {
  const g = (call.g = gst("h1", "wait", ""));
  await g.waitFor((e) => e.type === "signalling" && e.state === "connected", ms(15000));
  const p = (call.p = await seedPage("h2"));
  await clickCall(p);
  await g.waitForMedia(ms(30000));
  return { g, p };
}

/** The sending page's bandwidth estimate (availableOutgoingBitrate), kbit/s. */
const pageEstimate = (p) =>
  p.evaluate(async () => {
    let bps = 0;
    (await peerConnection.getStats()).forEach((s) => {
      if (s.type === "candidate-pair" && s.nominated && s.availableOutgoingBitrate) bps = s.availableOutgoingBitrate;
    });
    return Math.round(bps / 1000);
  });

// Chromium sending to a pipeline adapts on the pipeline's transport-cc
// feedback. Over a path that reorders (netimp's 40 +- 30 ms of jitter on a
// 1 Mbit/s cap) rtpsession's own feedback said lost every packet that came
// after a feedback had gone past it: Chromium's estimate sank, and 177
// kbit/s got through (capped-link.mjs, 2026-12-03). The pipeline's own
// feedback (gstmeshtwcc.c) says a late packet again.
test("the seed's page sends to a pipeline over a path that reorders: on the pipeline's feedback Chromium's estimate stays up", async () => {
  for (const h of ["h1", "h2"]) setNat(h, "none");
  net("rate", "h1", "1000");
  net("impair", "h1", "0", "40", "30");
  const call = {};
  try {
    const { g, p } = await pageCallsPipeline(call);
    // The first seconds are the jitter buffer's: it starts at 10 ms and
    // grows once a second while a keyframe's tail comes late through the
    // cap. Judged from the first three seconds in a row at 10 fps or more.
    const t0 = Date.now();
    let good = 0;
    await g.waitFor((e) => e.type === "fps" && (good = e.videoReceived >= 10 ? good + 1 : 0) >= 3, ms(40000),
      { from: g.mark(), what: "three seconds of video at 10 fps or more" });
    const steady = (Date.now() - t0) / 1000;
    const from = g.mark();
    const rates = [];
    for (let i = 0; i < 10; i++) {
      rates.push(await pageEstimate(p));
      await sleep(1000);
    }
    const fps = g.all("fps", from).map((e) => e.videoReceived);
    // Its estimate over these 10 s, 2026-12-03: sinking from 186 to 72
    // kbit/s (median 91) on rtpsession's feedback; 209-587 (medians 266,
    // 337 and 373 in three runs) on ours. Its fake camera would take about
    // 600 kbit/s.
    assert.ok(median(rates) >= 150, `Chromium's estimate (kbit/s) each second: ${rates}`);
    assert.ok(fps.length >= 5 && median(fps) >= 10, `the pipeline's video fps each second: ${fps}`);
    console.log(`reordering path: video steady ${steady.toFixed(1)} s after the first frame; then Chromium's estimate ${rates} kbit/s, the pipeline's fps ${fps}`);
  } catch (e) {
    await failReport([call.g].filter(Boolean), e);
  } finally {
    net("impair", "h1", "off");
    net("rate", "h1", "off");
    await stopAll([call.g].filter(Boolean), call.p ? [call.p] : []);
  }
});

// Chromium probes the path as a call starts (bursts at 900 and 1800 kbit/s,
// then twice the result while the path keeps up) and trusts the feedback
// on them. Only one transport-cc packet per RTCP compound counts for it:
// when the pipeline put four in one, the probes' feedback was among those
// dropped, and Chromium's estimate stayed at its 300 kbit/s start and
// climbed at 8 % a second (300-340 kbit/s three seconds in, in four runs
// of capped-link.mjs, 2026-12-05); between two pages it was 3.5 Mbit/s.
test("the seed's page sends to a pipeline over 3 Mbit/s: Chromium's probes at the start find the path on the pipeline's feedback", async () => {
  for (const h of ["h1", "h2"]) setNat(h, "none");
  net("rate", "h1", "3000");
  const call = {};
  try {
    const { p } = await pageCallsPipeline(call);
    const rates = [];
    for (let i = 0; i < 4; i++) {
      await sleep(1000);
      rates.push(await pageEstimate(p));
    }
    // 2026-12-05, capped-link.mjs with this fix: 3533 and 4105 kbit/s one
    // second after the first frame.
    assert.ok(Math.max(...rates) >= 1500, `Chromium's estimate (kbit/s) in the first seconds: ${rates}`);
    console.log(`3 Mbit/s path: Chromium's estimate ${rates} kbit/s in the first seconds of video`);
  } catch (e) {
    await failReport([call.g].filter(Boolean), e);
  } finally {
    net("rate", "h1", "off");
    await stopAll([call.g].filter(Boolean), call.p ? [call.p] : []);
  }
});

// The pipeline's video asks Chromium, with the playout-delay header
// extension, to show its frames as soon as they are complete while the
// page's receiver reports say the path is steady (playout-delay=auto):
// Chromium then holds no frame for a jitter allowance. On a path with 40
// +- 30 ms of jitter that would show the frames as unevenly as they come;
// the page's reports say so, and the pipeline gives Chromium back its
// choice, whose jitter buffer then holds the frames to even them out.
test("a pipeline sends to the seed's page: frames shown at once on a steady path, Chromium's own jitter buffer once the path is jittery", async () => {
  for (const h of ["h1", "h2"]) setNat(h, "none");
  const call = {};
  try {
    const { p } = await pageCallsPipeline(call);
    await waitForRemoteMedia(p, ms(30000));
    await sleep(1000);
    const steady = await videoHoldMs(p, 3000);
    const seen = await remoteStats(p);
    // what reaches the page (h2) from here on
    net("impair", "h2", "0", "40", "30");
    // the page reports about once a second; the pipeline looks each tick
    let jittery;
    const t0 = Date.now();
    do {
      jittery = await videoHoldMs(p, 2000);
    } while (!(jittery.ms > 15) && Date.now() - t0 < ms(20000));
    const took = (Date.now() - t0) / 1000;
    assert.ok(steady.frames >= 30 && steady.ms < 4, `steady path: Chromium held each frame ${steady.ms?.toFixed(1)} ms (${steady.frames} frames), expected about 0; the page: ${JSON.stringify(seen)}`);
    assert.ok(jittery.ms > 15, `jittery path: Chromium held each frame ${jittery.ms?.toFixed(1)} ms (${jittery.frames} frames), expected its jitter buffer's allowance`);
    console.log(`playout: Chromium held each frame ${steady.ms.toFixed(1)} ms on the steady path, ${jittery.ms.toFixed(1)} ms on the jittery one (within ${took.toFixed(0)} s)`);
  } catch (e) {
    await failReport([call.g].filter(Boolean), e);
  } finally {
    net("impair", "h2", "off");
    await stopAll([call.g].filter(Boolean), call.p ? [call.p] : []);
  }
});

// ---- TURN credentials that expire ---------------------------------------

// A Node socket.io server (the npm package) stands for any signalling
// server that hands out ice-servers: it gives credentials valid 3 s, and
// meshsignal must ask for fresh ones before they expire, again and again;
// an entry it cannot use is a warning that names it, the rest is used.
test("meshsignal refreshes handed-out TURN credentials before they expire", async () => {
  const { Server } = await import("socket.io");
  const { createHmac } = await import("node:crypto");
  const http = (await import("node:http")).createServer();
  const sio = new Server(http);
  const TTL = 3;
  let asked = 0;
  const ice = (id) => {
    const username = `${Math.floor(Date.now() / 1000) + TTL}:${id}`;
    const credential = createHmac("sha1", SECRET).update(username).digest("base64");
    return {
      iceServers: [
        { urls: [`turn:${PUBLIC}:3479?transport=udp`], username, credential },
        { urls: "turn:bad-url:port", username, credential },
      ],
      ttl: TTL,
    };
  };
  sio.on("connection", (socket) => {
    socket.emit("ice-servers", ice(socket.id));
    socket.on("ice-servers", (ack) => {
      asked++;
      if (typeof ack === "function") ack(ice(socket.id));
    });
  });
  await new Promise((r) => http.listen(0, PUBLIC, r));
  const url = `http://${PUBLIC}:${http.address().port}`;
  const g = startGstPeer({ prefix: inHome("h1"), server: url, role: "wait", name: "h1-refresh" });
  try {
    // the warning's detail (on the line after its message) names the entry
    await g.waitFor(() => /ice-servers[\s\S]*turn:bad-url:port/.test(g.output()), ms(10000), {
      what: "the bad entry's warning",
    });
    const t0 = Date.now();
    while (asked < 2 && Date.now() - t0 < ms(15000)) await sleep(100);
    assert.ok(asked >= 2, `asked for fresh credentials ${asked} times in ${Date.now() - t0} ms`);
  } catch (e) {
    await failReport([g], e);
  } finally {
    await g.stop();
    sio.close();
  }
});

// ---- a network that changes --------------------------------------------

// How fast is the benchmark's business (tests/bench/ice-recovery.mjs);
// here: the call comes back at all, well before the signalling server's
// ping timeout (45 s) would have noticed. Before the transport-level
// liveness and the address check, a NAT rebinding took 36 s and a host
// address change 42 s.
test("a call comes back after a cut, a NAT rebinding and a host address change", async () => {
  setNat("h1", "cone");
  setNat("h2", "cone");
  const props = `stun-server=${STUN} turn-server=${TURN_UDP}`;
  const a = gst("h1", "wait", props);
  await a.waitFor((e) => e.type === "signalling" && e.state === "connected", ms(15000));
  const b = gst("h2", "call", props);
  const LIMIT = ms(25000);
  try {
    await a.waitForMedia(ms(20000));
    await b.waitForMedia(ms(20000));
    // After a rebinding or a new address the signalling connection broke
    // too; the caller, hearing nothing from the peer for 1 s, probes it,
    // reconnects at once, and calls again then, rather than waiting for
    // peer-timeout (3 s) to end the call.
    for (const [what, change, networkChanged] of [
      ["a 3 s cut", async () => {
        setCut("h2", true);
        await sleep(3000);
        setCut("h2", false);
      }, false],
      ["a NAT rebinding", async () => rebind("h2"), true],
      ["a host address change", async () => readdr("h2"), true],
    ]) {
      await sleep(1000);
      const fromA = a.mark();
      const fromB = b.mark();
      await change();
      const back = Date.now();
      for (const [p, from] of [[a, fromA], [b, fromB]]) {
        const e = await p.waitFor((e) => e.type === "gap", LIMIT, { from, what: `video back after ${what}` });
        record("recovery (cone/cone)", `${p.name} after ${what}`, e.t - back, "-", "-");
      }
      if (networkChanged) {
        const ended = b.all("call", fromB).filter((e) => e.state === "ended");
        assert.ok(ended.some((e) => /the network changed/.test(e.reason)),
          `after ${what} the caller called again because the network changed, ` +
          `not after peer-timeout; its calls ended: ${JSON.stringify(ended.map((e) => e.reason))}`);
      }
      await a.waitForMedia(ms(20000));
      await b.waitForMedia(ms(20000));
    }
  } catch (e) {
    await failReport([a, b], e);
  } finally {
    await stopAll([a, b], []);
  }
});

// The seed's page calls a waiting pipeline, and the pipeline's home gets a
// new public address: the pipeline's signalling reconnects while the call
// is silent, so it offers (a waiting side's one exception), and the page,
// unchanged, answers with a new RTCPeerConnection.
test("a page's call to a waiting pipeline comes back after the pipeline's NAT rebinding: the pipeline offers", async () => {
  setNat("h1", "cone");
  setNat("h2", "cone");
  const g = gst("h1", "wait", `stun-server=${STUN}`);
  await g.waitFor((e) => e.type === "signalling" && e.state === "connected", ms(15000));
  const p = await seedPage("h2", [{ urls: STUN }]);
  try {
    await clickCall(p);
    await waitForRemoteMedia(p, ms(30000));
    await g.waitForMedia(ms(20000));
    await sleep(1000);
    const from = g.mark();
    rebind("h1");
    const back = Date.now();
    const e = await g.waitFor((e) => e.type === "gap", ms(25000), { from, what: "video back at the pipeline" });
    record("recovery (cone/cone)", "meshsignal (waiting) after its NAT rebinding, from a page", e.t - back, "-", "-");
    const ended = g.all("call", from).filter((e) => e.state === "ended");
    assert.ok(ended.some((e) => /the network changed/.test(e.reason)),
      `the waiting pipeline called again; its calls ended: ${JSON.stringify(ended.map((e) => e.reason))}`);
    // the page's old connection is dead: frames rising now are the new one's
    await sleep(1500);
    await waitForRemoteMedia(p, ms(20000));
  } catch (e) {
    await failReport([g], e);
  } finally {
    await stopAll([g], [p]);
  }
});

// ---- bad input ---------------------------------------------------------

test("a wrong TURN password, expired TURN credentials, no TURN server, an unreachable STUN server: warnings that name them and say why, the call goes on", async () => {
  setNat("h1", "cone");
  setNat("h2", "cone");
  // REST credentials that expired a minute ago, for the coturn that takes them
  const { createHmac } = await import("node:crypto");
  const expiredUser = `${Math.floor(Date.now() / 1000) - 60}:late`;
  const expiredPass = createHmac("sha1", SECRET).update(expiredUser).digest("base64");
  const esc = encodeURIComponent;
  const expired = `turn://${esc(expiredUser)}:${esc(expiredPass)}@${PUBLIC}:3479`;
  const closed = `turn://u:p@${PUBLIC}:3998?transport=udp`;
  const bad = `stun-server=stun:${PUBLIC}:3999 turn-server=turn://u:wrong@${PUBLIC}:3478 turn-servers=<"turn:nowhere:x","${expired}","${closed}">`;
  const good = `stun-server=${STUN}`;
  const a = gst("h1", "wait", good);
  await a.waitFor((e) => e.type === "signalling" && e.state === "connected", ms(15000));
  const b = gst("h2", "call", bad);
  try {
    await b.waitFor((e) => e.type === "warning" && /turn-servers/.test(e.text) && /port 'x'/.test(e.text), ms(10000), { what: "the bad URL warning" });
    await b.waitForMedia(ms(30000));
    await b.waitFor((e) => e.type === "warning" && /TURN server turn:\/\/u:\*\*\*@203\.0\.113\.1:3478/.test(e.text), ms(60000), { what: "the TURN warning" });
    await b.waitFor((e) => e.type === "warning" && /STUN server stun:\/\/203\.0\.113\.1:3999/.test(e.text), ms(60000), { what: "the STUN warning" });
    await b.waitFor((e) => e.type === "warning" && /TURN server turn:\/\/\d+%3Alate:\*\*\*@203\.0\.113\.1:3479/.test(e.text), ms(60000), { what: "the expired credentials' warning" });
    // each says what the server answered when asked directly (the detail,
    // on the line after the message)
    const said = (server, what) =>
      b.waitFor(() => new RegExp(`TURN server ${server}[^\n]*\n[^\n]*\n?[^\n]*${what}`).test(b.output()), ms(20000), {
        what: `${server}: ${what}`,
      });
    await said("turn://u:\\*\\*\\*@203\\.0\\.113\\.1:3478", "answered 401");
    await said("turn://\\d+%3Alate:\\*\\*\\*@203\\.0\\.113\\.1:3479", "answered 401");
    await said("turn://u:\\*\\*\\*@203\\.0\\.113\\.1:3998", "does not answer");
    assert.ok(!b.output().includes(":wrong@"), "a warning shows the password");
  } catch (e) {
    await failReport([a, b], e);
  } finally {
    await stopAll([a, b], []);
  }
});
