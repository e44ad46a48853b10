#!/usr/bin/env node
// Benchmark: how soon a call's media comes back when its network path
// breaks and returns, in the simulated Internet of tests/net/internet.
//
//   node tests/bench/ice-recovery.mjs [RUNS] [--nat KIND] [--only cut,rebind,readdr]
//                                     [--home h1|h2] [--peer-timeout MS]
//                                     [--no-pages] [--verbose]
//                                                            (as root)
//
// Two meshsignal pipelines (gst-mesh-call) on homes h1 (waits) and h2
// (calls), each behind a NAT of KIND (default cone), with the tool's coturn
// as STUN and TURN server, call through the seed's server. Once media flows
// both ways, one of these happens to h2's home (--home h1: the waiting
// side's):
//   cut      its uplink drops every packet for CUT_MS (4 s), then returns
//   rebind   its router's public address changes (every NAT mapping with it)
//   readdr   the host's own address changes (192.168.2.2 <-> .3)
// and each pipeline reports when its received video resumes
// (gst-mesh-call's "video resumed after a gap of N ms"). Printed per
// scenario, median over RUNS (default 3): the time from the path's return
// (end of the cut, or the change) to video back at h1 and at h2, and
// whether the call was the same (an ICE restart or nothing) or a new one.
// Beside it, in the same run, two seed pages in Chromium (the seed's page
// as written: no recovery code of its own) through the same faults
// (--no-pages leaves them out).

import { runInInternet, setNat, setCut, rebind, readdr, inHome, openSeedPageIn, PUBLIC } from "../net/internet.mjs";

const argv = process.argv.slice(2);
const RUNS = Number(argv.find((a) => /^\d+$/.test(a)) ?? 3);
const natArg = argv.indexOf("--nat");
const NAT = natArg >= 0 ? argv[natArg + 1] : "cone";
const onlyArg = argv.indexOf("--only");
const SCENARIOS = onlyArg >= 0 ? argv[onlyArg + 1].split(",") : ["cut", "rebind", "readdr"];
const VERBOSE = argv.includes("--verbose");
const homeArg = argv.indexOf("--home");
const HOME = homeArg >= 0 ? argv[homeArg + 1] : "h2";
if (!["h1", "h2"].includes(HOME)) throw new Error(`--home: h1 or h2, not ${HOME}`);
await runInInternet({ homes: 2, nat: NAT });

const { startGstPeer, startSeedServer, sleep } = await import("../browser/gst-peer.mjs");
const { servePage } = await import("../seed/serve-page.mjs");
const { clickCall, waitForRemoteMedia } = await import("../browser/seed-page.mjs");
const WITH_PAGES = !argv.includes("--no-pages");

const CUT_MS = 4000;
const WAIT_MS = 45000;
const ptArg = argv.indexOf("--peer-timeout");
const PROPS =
  `stun-server=stun:${PUBLIC}:3478 turn-server=turn://u:p@${PUBLIC}:3478` +
  (ptArg >= 0 ? ` peer-timeout=${argv[ptArg + 1]}` : "");
const median = (a) => {
  const s = a.filter((x) => Number.isFinite(x)).sort((x, y) => x - y);
  return s.length ? s[Math.floor((s.length - 1) / 2)] : NaN;
};

const seed = await startSeedServer();
const pageServer = WITH_PAGES ? await servePage({ port: 0, host: PUBLIC, seed: "http://127.0.0.1:4000" }) : null;
const browsers = {};
const results = {};
const pageResults = {};

// The seed's page, unchanged, its RTCPeerConnection given the same STUN
// and TURN servers; a frame callback records every pause of more than
// 500 ms in the remote video, as gst-mesh-call does.
function seedPage(home) {
  return openSeedPageIn(browsers, home, pageServer.url, {
    iceServers: [
      { urls: `stun:${PUBLIC}:3478` },
      { urls: `turn:${PUBLIC}:3478`, username: "u", credential: "p" },
    ],
    initScript: () => {
      window.__gaps = [];
      const watch = () => {
        const v = document.getElementById("remoteVideo");
        if (!v) return setTimeout(watch, 50);
        let last = 0;
        const tick = () => {
          const now = Date.now();
          if (last && now - last > 500) window.__gaps.push({ at: now, ms: now - last });
          last = now;
          v.requestVideoFrameCallback(tick);
        };
        v.requestVideoFrameCallback(tick);
      };
      document.addEventListener("DOMContentLoaded", watch);
    },
  });
}

async function oncePages(scenario) {
  const a = await seedPage("h1");
  const b = await seedPage("h2");
  try {
    await clickCall(b);
    await waitForRemoteMedia(b, 30000);
    await waitForRemoteMedia(a, 30000);
    await sleep(1500);
    const n = await Promise.all([a, b].map((p) => p.evaluate(() => window.__gaps.length)));
    const back = await fault(scenario);
    const wait = async (p, from) => {
      const end = Date.now() + WAIT_MS;
      while (Date.now() < end) {
        const g = await p.evaluate((from) => window.__gaps.slice(from), from);
        if (g.length) return g[0].at - back;
        await sleep(100);
      }
      return Infinity;
    };
    const [ra, rb] = await Promise.all([wait(a, n[0]), wait(b, n[1])]);
    return { h1: ra, h2: rb, newCall: false };
  } finally {
    await a.context().close().catch(() => {});
    await b.context().close().catch(() => {});
    await sleep(300);
  }
}

/** Does @scenario to HOME; resolves to when the path is back (ms). */
async function fault(scenario) {
  if (scenario === "cut") {
    setCut(HOME, true);
    await sleep(CUT_MS);
    setCut(HOME, false);
  } else if (scenario === "rebind") {
    rebind(HOME);
  } else {
    readdr(HOME);
  }
  return Date.now();
}

async function once(scenario) {
  const a = startGstPeer({ prefix: inHome("h1"), server: `http://${PUBLIC}:4000`, role: "wait", name: "h1", props: PROPS });
  await a.waitFor((e) => e.type === "signalling" && e.state === "connected", 15000);
  const b = startGstPeer({ prefix: inHome("h2"), server: `http://${PUBLIC}:4000`, role: "call", name: "h2", props: PROPS });
  try {
    await a.waitForMedia(30000);
    await b.waitForMedia(30000);
    await sleep(1500);
    const fromA = a.mark();
    const fromB = b.mark();
    const callsBefore = b.all("call").filter((e) => e.state === "connected").length;
    const back = await fault(scenario);
    const wait = (p, from) =>
      p
        .waitFor((e) => e.type === "gap", WAIT_MS, { from, what: "video back" })
        .then((e) => e.t - back)
        .catch(() => Infinity);
    const [ra, rb] = await Promise.all([wait(a, fromA), wait(b, fromB)]);
    const newCall = b.all("call").filter((e) => e.state === "connected").length > callsBefore;
    if (VERBOSE) console.error(`--- h1:\n${a.output()}\n--- h2:\n${b.output()}`);
    return { h1: ra, h2: rb, newCall };
  } finally {
    await a.stop();
    await b.stop();
    await sleep(300);
  }
}

try {
  for (const scenario of SCENARIOS) {
    const runs = [];
    for (let i = 0; i < RUNS; i++) {
      setNat("h1", NAT);
      setNat("h2", NAT);
      const r = await once(scenario);
      runs.push(r);
      console.error(`${scenario} run ${i + 1}: h1 ${r.h1} ms, h2 ${r.h2} ms${r.newCall ? ", new call" : ""}`);
    }
    results[scenario] = runs;
    if (!WITH_PAGES) continue;
    const pruns = [];
    for (let i = 0; i < RUNS; i++) {
      setNat("h1", NAT);
      setNat("h2", NAT);
      const r = await oncePages(scenario);
      pruns.push(r);
      console.error(`${scenario} pages run ${i + 1}: h1 ${r.h1} ms, h2 ${r.h2} ms`);
    }
    pageResults[scenario] = pruns;
  }
} finally {
  for (const b of Object.values(browsers)) await b.close().catch(() => {});
  await pageServer?.close();
  await seed.stop();
}

const fmt = (x) => (Number.isFinite(x) ? `${Math.round(x)}` : "never");
console.log(`\nICE recovery, meshsignal <-> meshsignal (${PROPS.split(" ").slice(2).join(" ") || "defaults"}), ${NAT} NATs, fault at ${HOME} (${HOME === "h2" ? "the caller" : "the waiting side"}), median of ${RUNS} (ms from the path's return to video back; "never": not within ${WAIT_MS / 1000} s)`);
console.log("| scenario | meshsignal: video back at h1 | at h2 | recovered by | seed page <-> seed page (Chromium): at h1 | at h2 |");
console.log("|---|---|---|---|---|---|");
const names = { cut: `cut of ${CUT_MS / 1000} s`, rebind: "NAT rebinding (new public address)", readdr: "host address change" };
for (const [s, runs] of Object.entries(results)) {
  const how = runs.every((r) => r.newCall) ? "a new call" : runs.some((r) => r.newCall) ? "mixed" : "the same call";
  const pr = pageResults[s] ?? [];
  const pages = WITH_PAGES ? `${fmt(median(pr.map((r) => r.h1)))} | ${fmt(median(pr.map((r) => r.h2)))}` : "- | -";
  console.log(`| ${names[s]} | ${fmt(median(runs.map((r) => r.h1)))} | ${fmt(median(runs.map((r) => r.h2)))} | ${how} | ${pages} |`);
}
