#!/usr/bin/env node
// Benchmark: a call across a narrow link, meshsignal beside Chromium
// (issue 17).
//
//   node tests/bench/capped-link.mjs [RUNS] [--caps 300,500,1000,3000]
//        [--no-step] [--no-impair] [--no-pages] [--seconds S]
//        [--setups gcc,none] [--page-camera fake|bars] [--only TEXT]
//        [--impair-only TEXT] [--glass] [--props "K=V ..."]
//                                                            (as root)
//
// In the simulated Internet (tests/net/internet, two homes, no NAT), h2
// calls h1 through the seed's server, and what reaches h1 is capped
// (`internet rate`: tbf, 16 kB burst, at most 150 ms queued) from before
// the call. The h2 -> h1 direction is measured, for S seconds (30) from
// the first frame, leaving out the first 5:
//   - frames h1 shows as a share of the frames h2's source made (so
//     frames the sender's encoder drops count as lost, for both);
//   - h1's frame rate (median over the seconds), and freezes: pauses over
//     500 ms between shown frames (for Chromium also its own freezeCount);
//   - kbit/s through the bottleneck, and packets it dropped.
// Setups: meshsignal pipelines (gst-mesh-call, VP8, 640x480@30 SMPTE bars
// moving 4 pixels a frame, the issue's source: far harder to encode than
// Chromium's fake camera, a still background with a small moving object)
// with congestion-control=gcc and with congestion-control=none (what
// "defaults" meant before it was gcc); two seed pages in Debian's
// Chromium (its fake camera, 640x480); and the seed's page sending to a
// meshsignal pipeline, with and without congestion control there.
// `--only TEXT` keeps the setups whose name has TEXT in it, and
// `--impair-only TEXT` the impaired rows ("loss", "40 +- 30").
// `--props` adds meshsignal properties to every pipeline (e.g. "fec=true").
// `--glass` adds glass to glass at each cap and impairment, meshsignal ->
// meshsignal (tests/bench/glass.c, below) and, unless --no-pages, seed
// page -> seed page (glass-page.mjs's time-coded camera and microphone).
// `--page-camera bars` gives the pages meshsignal's source instead of the
// fake camera (a 640x480 canvas, captureStream(30), of colour bars moving
// 4 pixels a frame, beside Chromium's fake microphone): Chromium then
// sends about 1.5 Mbit/s where it can, so the step can be compared.
// Impaired: 1000 kbit/s with 2 % loss, with 5 % loss (20 ms delay), and
// with 40 +- 30 ms of delay (netimp in h1's router: `internet impair`).
// The step scenario: 3000 kbit/s, 500 from second 15, 3000 from second
// 30; per second, h1's frame rate and the bottleneck's throughput, and
// seconds to settle after each step (until h1 shows at least 15 fps for
// 3 s in a row with no freeze, and, after the step up, the throughput is
// over 1 Mbit/s).

import { spawn, spawnSync } from "node:child_process";
import path from "node:path";
import { createWriteStream } from "node:fs";
import { createInterface } from "node:readline";
import { runInInternet, net, inHome, openSeedPageIn, PUBLIC } from "../net/internet.mjs";
import { pageHooks } from "./glass-page.mjs";

const argv = process.argv.slice(2);
const opt = (name, dflt) => {
  const i = argv.indexOf(name);
  return i >= 0 ? argv[i + 1] : dflt;
};
const RUNS = Number(argv.find((a) => /^\d+$/.test(a)) ?? 1);
const CAPS = opt("--caps", "300,500,1000,3000").split(",").filter(Boolean).map(Number);
const SECONDS = Number(opt("--seconds", "30"));
const SETUPS = opt("--setups", "gcc,none").split(",").filter(Boolean);
const WITH_PAGES = !argv.includes("--no-pages");
const WITH_STEP = !argv.includes("--no-step");
const WITH_IMPAIR = !argv.includes("--no-impair");
const PAGE_CAMERA = opt("--page-camera", "fake");
const WITH_GLASS = argv.includes("--glass");
// [name, cap, loss %, delay ms, jitter ms]
const IMPAIRS = [
  ["1000, 2 % loss", 1000, 2, 20, 0],
  ["1000, 5 % loss", 1000, 5, 20, 0],
  ["1000, 40 +- 30 ms", 1000, 0, 40, 30],
].filter(([name]) => name.includes(opt("--impair-only", "")));
const SKIP = 5;

await runInInternet({ homes: 2, nat: "none" });

const { startGstPeer, startSeedServer, sleep, BUILD_DIR, gstEnv } = await import("../browser/gst-peer.mjs");
const { servePage } = await import("../seed/serve-page.mjs");
const { clickCall, waitForRemoteMedia } = await import("../browser/seed-page.mjs");

const setRate = (home, kbit) => net("rate", home, String(kbit));
function bottleneck() {
  const r = spawnSync("ip", ["netns", "exec", "r1", "tc", "-s", "qdisc", "show", "dev", "lan"], { encoding: "utf8" });
  const m = /Sent (\d+) bytes (\d+) pkt \(dropped (\d+)/.exec(r.stdout ?? "");
  return m ? { bytes: Number(m[1]), packets: Number(m[2]), dropped: Number(m[3]) } : { bytes: 0, packets: 0, dropped: 0 };
}
const quantile = (a, q) => {
  const s = a.filter((x) => Number.isFinite(x)).sort((x, y) => x - y);
  return s.length ? s[Math.min(s.length - 1, Math.floor(q * s.length))] : NaN;
};
const median = (a) => {
  const s = a.filter((x) => Number.isFinite(x)).sort((x, y) => x - y);
  return s.length ? s[Math.floor((s.length - 1) / 2)] : NaN;
};

const seed = await startSeedServer();
const pageServer = WITH_PAGES ? await servePage({ port: 0, host: PUBLIC, seed: "http://127.0.0.1:4000" }) : null;
const browsers = {};

/** Samples the bottleneck every second for @seconds; @onSecond(i) runs
 * at each (for the step's rate changes). */
async function sampleSeconds(seconds, onSecond = () => {}) {
  const out = [];
  let prev = bottleneck();
  for (let i = 0; i < seconds; i++) {
    await onSecond(i);
    await sleep(1000);
    const now = bottleneck();
    // a new rate replaces the qdisc, and its counters start again
    const reset = now.bytes < prev.bytes;
    const d = (k) => (reset ? now[k] : now[k] - prev[k]);
    out.push({ kbps: (d("bytes") * 8) / 1000, dropped: d("dropped"), packets: d("packets") });
    prev = now;
  }
  return out;
}

// ---- meshsignal ---------------------------------------------------------

async function gstRun(props, seconds, onSecond) {
  const a = startGstPeer({ prefix: inHome("h1"), server: `http://${PUBLIC}:4000`, role: "wait", name: "h1", props, pattern: 0, speed: 4 });
  await a.waitFor((e) => e.type === "signalling" && e.state === "connected", 15000);
  const b = startGstPeer({ prefix: inHome("h2"), server: `http://${PUBLIC}:4000`, role: "call", name: "h2", props, pattern: 0, speed: 4 });
  try {
    await a.waitFor((e) => e.type === "first-frame" && e.media === "video", 30000);
    const fromA = a.mark();
    const fromB = b.mark();
    const t0 = Date.now();
    const link = await sampleSeconds(seconds, onSecond);
    const fpsA = a.all("fps", fromA);
    const fpsB = b.all("fps", fromB);
    const gaps = a.all("gap", fromA).filter((e) => e.t - t0 > SKIP * 1000);
    // a pause still going on at the end is a freeze too
    const tail = fpsA.slice(-1)[0];
    const frozenAtEnd = tail && tail.videoReceived === 0 ? 1 : 0;
    return {
      rx: fpsA.map((e) => e.videoReceived),
      tx: fpsB.map((e) => e.videoSent),
      freezes: gaps.length + frozenAtEnd,
      chromeFreezes: null,
      link,
    };
  } finally {
    await a.stop();
    await b.stop();
    await sleep(300);
  }
}

// ---- glass to glass through the link ---------------------------------------
// tests/bench/glass.c on each side (`--role wait` on h1, `--role call` on
// h2): its source writes the wall-clock time into the picture and a tone
// burst every 250 ms, and h1 reads them as its sinks render (the latency
// issue's method). Its picture (16 black and white blocks) is easier to
// encode than the bars, so the link is less full than in the other rows.

function spawnGlass(home, role, seconds) {
  const bin = path.join(BUILD_DIR, "tests", "bench", "glass");
  const [cmd, ...prefix] = inHome(home);
  const extra = EXTRA ? ["--props", EXTRA] : [];
  const proc = spawn(cmd, [...prefix, bin, "--role", role, "--server", `http://${PUBLIC}:4000`, "--seconds", String(seconds), ...extra], {
    env: gstEnv(),
    stdio: ["ignore", "pipe", "pipe"],
  });
  const lines = [];
  createInterface({ input: proc.stdout }).on("line", (line) => {
    if (line.startsWith("{")) lines.push({ t: Date.now(), ...JSON.parse(line) });
  });
  // a debugging aid: MESH_GLASS_LOG=DIR keeps each side's stderr (with
  // GST_DEBUG, its log) in DIR/glass-HOME-TIME.log
  const log = process.env.MESH_GLASS_LOG ? createWriteStream(path.join(process.env.MESH_GLASS_LOG, `glass-${home}-${Date.now()}.log`)) : null;
  proc.stderr.on("data", (d) => log?.write(d));
  proc.on("exit", () => log?.end());
  const exited = new Promise((resolve) => proc.on("exit", resolve));
  return { proc, lines, exited };
}

async function glassRun(seconds, onSecond) {
  const a = spawnGlass("h1", "wait", seconds + 2);
  await sleep(1500);
  const b = spawnGlass("h2", "call", seconds + 2);
  try {
    const t = Date.now();
    while (!a.lines.some((l) => l.kind === "video") && Date.now() - t < 30000) await sleep(100);
    const t0 = Date.now();
    const link = await sampleSeconds(seconds, onSecond);
    const after = (kind) => a.lines.filter((l) => l.kind === kind && l.t - t0 > SKIP * 1000).map((l) => l.ms);
    return { video: after("video"), audio: after("audio"), link };
  } finally {
    for (const g of [a, b]) {
      g.proc.kill("SIGTERM");
      await Promise.race([g.exited, sleep(3000)]);
      g.proc.kill("SIGKILL");
    }
    await sleep(300);
  }
}

// ---- the seed's page in Chromium -----------------------------------------

// The pages' camera with --page-camera bars: bars like videotestsrc's
// smpte, moved 4 pixels every 1/30 s, on a canvas; the microphone stays
// Chromium's fake one.
function barsCamera() {
  const W = 640,
    H = 480;
  const top = ["#c0c0c0", "#c0c000", "#00c0c0", "#00c000", "#c000c0", "#c00000", "#0000c0"];
  const mid = ["#0000c0", "#131313", "#c000c0", "#131313", "#00c0c0", "#131313", "#c0c0c0"];
  const low = ["#00214c", "#ffffff", "#32006a", "#131313", "#090909", "#131313", "#1d1d1d", "#131313"];
  const gum = navigator.mediaDevices.getUserMedia.bind(navigator.mediaDevices);
  navigator.mediaDevices.getUserMedia = async (c = {}) => {
    const canvas = document.createElement("canvas");
    canvas.width = W;
    canvas.height = H;
    const g = canvas.getContext("2d");
    // scrolled to the right and wrapped round, as videotestsrc does
    const row = (colours, y, h, shift) => {
      const w = W / colours.length;
      colours.forEach((colour, i) => {
        const x = (i * w + shift) % W;
        g.fillStyle = colour;
        g.fillRect(Math.floor(x), y, Math.ceil(w), h);
        if (x + w > W) g.fillRect(Math.floor(x - W), y, Math.ceil(w), h);
      });
    };
    const tick = () => {
      const shift = (Math.floor(performance.now() / (1000 / 30)) * 4) % W;
      row(top, 0, (H * 2) / 3, shift);
      row(mid, (H * 2) / 3, H / 12, shift);
      row(low, (H * 3) / 4, H / 4, shift);
      requestAnimationFrame(tick);
    };
    tick();
    const stream = canvas.captureStream(30);
    if (c.audio) for (const t of (await gum({ audio: true })).getAudioTracks()) stream.addTrack(t);
    return stream;
  };
}

function seedPage(home) {
  const camera = PAGE_CAMERA === "bars" ? `(${barsCamera})();\n` : "";
  return openSeedPageIn(browsers, home, pageServer.url, {
    initScript: camera + `(${() => {
      window.__frames = [];
      const watch = () => {
        const v = document.getElementById("remoteVideo");
        if (!v) return setTimeout(watch, 50);
        const tick = () => {
          window.__frames.push(Date.now());
          v.requestVideoFrameCallback(tick);
        };
        v.requestVideoFrameCallback(tick);
      };
      document.addEventListener("DOMContentLoaded", watch);
    }})();`,
  });
}

// Two seed pages with glass-page.mjs's time-coded camera and microphone
// (in browsers of their own: the audio graph needs the autoplay flag),
// h2 calling h1; the delays h1 read after the first SKIP s.
const glassBrowsers = {};
async function glassPageRun(seconds, onSecond) {
  const opts = { initScript: pageHooks, chromiumArgs: ["--autoplay-policy=no-user-gesture-required"] };
  const a = await openSeedPageIn(glassBrowsers, "h1", pageServer.url, opts);
  const b = await openSeedPageIn(glassBrowsers, "h2", pageServer.url, opts);
  try {
    await clickCall(b);
    await a.waitForFunction(() => window.__glass.video.length > 0, null, { timeout: 30000, polling: 100 });
    let from = null;
    const link = await sampleSeconds(seconds, async (i) => {
      onSecond(i);
      if (i === SKIP) from = await a.evaluate(() => ({ video: window.__glass.video.length, audio: window.__glass.audio.length }));
    });
    const g = await a.evaluate(() => window.__glass);
    return { video: g.video.slice(from?.video ?? 0), audio: g.audio.slice(from?.audio ?? 0), link };
  } finally {
    await a.context().close().catch(() => {});
    await b.context().close().catch(() => {});
    await sleep(300);
  }
}

const pageStats = (page) =>
  page.evaluate(async () => {
    const out = { sourceFrames: 0, freezeCount: 0, estimate: NaN };
    if (typeof peerConnection === "undefined" || !peerConnection) return out;
    (await peerConnection.getStats()).forEach((s) => {
      if (s.type === "media-source" && s.kind === "video") out.sourceFrames += s.frames ?? 0;
      // the sending side's bandwidth estimate, kbit/s
      if (s.type === "candidate-pair" && s.nominated && s.availableOutgoingBitrate)
        out.estimate = s.availableOutgoingBitrate / 1000;
      if (s.type === "inbound-rtp" && s.kind === "video") out.freezeCount += s.freezeCount ?? 0;
    });
    return out;
  });

async function pageRun(seconds, onSecond) {
  const a = await seedPage("h1");
  const b = await seedPage("h2");
  try {
    await clickCall(b);
    await waitForRemoteMedia(a, 30000);
    const t0 = Date.now();
    const srcBefore = [];
    const estimate = [];
    const rxStart = await a.evaluate(() => window.__frames.length);
    const freezeBefore = (await pageStats(a)).freezeCount;
    const link = await sampleSeconds(seconds, async (i) => {
      onSecond(i);
      const st = await pageStats(b);
      srcBefore.push(st.sourceFrames);
      estimate.push(st.estimate);
    });
    srcBefore.push((await pageStats(b)).sourceFrames);
    const frames = (await a.evaluate(() => window.__frames)).slice(rxStart);
    const rx = [];
    for (let i = 0; i < seconds; i++) rx.push(frames.filter((t) => t >= t0 + i * 1000 && t < t0 + (i + 1) * 1000).length);
    const tx = srcBefore.slice(1).map((n, i) => n - srcBefore[i]);
    let freezes = 0;
    for (let i = 1; i < frames.length; i++)
      if (frames[i] - t0 > SKIP * 1000 && frames[i] - frames[i - 1] > 500) freezes++;
    if (!frames.length || t0 + seconds * 1000 - frames[frames.length - 1] > 500) freezes++;
    const chromeFreezes = (await pageStats(a)).freezeCount - freezeBefore;
    return { rx, tx, freezes, chromeFreezes, link, estimate };
  } finally {
    await a.context().close().catch(() => {});
    await b.context().close().catch(() => {});
    await sleep(300);
  }
}

// ---- the seed's page sending to meshsignal --------------------------------
// Chromium adapts to what meshsignal's feedback says (transport-cc every
// 50 ms with congestion control; without it, only RTCP receiver reports).

async function pageToGstRun(props, seconds, onSecond) {
  const a = startGstPeer({ prefix: inHome("h1"), server: `http://${PUBLIC}:4000`, role: "wait", name: "h1", props });
  await a.waitFor((e) => e.type === "signalling" && e.state === "connected", 15000);
  const b = await seedPage("h2");
  try {
    await clickCall(b);
    await a.waitFor((e) => e.type === "first-frame" && e.media === "video", 30000);
    const fromA = a.mark();
    const t0 = Date.now();
    const src = [];
    const estimate = [];
    const link = await sampleSeconds(seconds, async (i) => {
      onSecond(i);
      const st = await pageStats(b);
      src.push(st.sourceFrames);
      estimate.push(st.estimate);
    });
    src.push((await pageStats(b)).sourceFrames);
    const fpsA = a.all("fps", fromA);
    const gaps = a.all("gap", fromA).filter((e) => e.t - t0 > SKIP * 1000);
    const tail = fpsA.slice(-1)[0];
    return {
      rx: fpsA.map((e) => e.videoReceived),
      tx: src.slice(1).map((n, i) => n - src[i]),
      freezes: gaps.length + (tail && tail.videoReceived === 0 ? 1 : 0),
      chromeFreezes: null,
      link,
      estimate,
    };
  } finally {
    await a.stop();
    await b.context().close().catch(() => {});
    await sleep(300);
  }
}

// ---- runs -----------------------------------------------------------------

function summary(r) {
  const rx = r.rx.slice(SKIP);
  const tx = r.tx.slice(SKIP);
  const link = r.link.slice(SKIP);
  const sum = (a) => a.reduce((x, y) => x + y, 0);
  return {
    share: sum(tx) ? sum(rx) / sum(tx) : NaN,
    fps: median(rx),
    freezes: r.freezes,
    chromeFreezes: r.chromeFreezes,
    kbps: median(link.map((s) => s.kbps)),
    dropped: sum(link.map((s) => s.dropped)),
    // a sending page's estimate, kbit/s: its first seconds, and its median
    ...(r.estimate ? { estimateStart: r.estimate.slice(0, 4).map(Math.round), estimate: median(r.estimate.slice(SKIP)) } : {}),
  };
}

const ONLY = opt("--only", "");
const EXTRA = opt("--props", "");
const gstProps = (s) => `congestion-control=${s}${EXTRA ? ` ${EXTRA}` : ""}`;
const setups = [
  ...SETUPS.map((s) => ({ name: `meshsignal ${gstProps(s)}`, run: (sec, on) => gstRun(gstProps(s), sec, on) })),
  ...(WITH_PAGES ? [{ name: "seed pages (Chromium)", run: pageRun }] : []),
  ...(WITH_PAGES
    ? SETUPS.map((s) => ({ name: `seed page -> meshsignal ${gstProps(s)}`, run: (sec, on) => pageToGstRun(gstProps(s), sec, on) }))
    : []),
].filter((s) => s.name.includes(ONLY));

const capResults = {};
try {
  for (const cap of CAPS) {
    for (const s of setups) {
      const runs = [];
      for (let i = 0; i < RUNS; i++) {
        setRate("h1", cap);
        const r = summary(await s.run(SECONDS, () => {}));
        runs.push(r);
        console.error(`${cap} kbit/s, ${s.name}, run ${i + 1}: ${JSON.stringify(r)}`);
      }
      (capResults[cap] ??= {})[s.name] = runs;
    }
  }
  const impairResults = {};
  if (WITH_IMPAIR) {
    for (const [name, cap, loss, delay, jitter] of IMPAIRS) {
      for (const s of setups) {
        const runs = [];
        for (let i = 0; i < RUNS; i++) {
          setRate("h1", cap);
          net("impair", "h1", String(loss), String(delay), String(jitter));
          try {
            runs.push(summary(await s.run(SECONDS, () => {})));
          } finally {
            net("impair", "h1", "off");
          }
          console.error(`${name}, ${s.name}, run ${i + 1}: ${JSON.stringify(runs[runs.length - 1])}`);
        }
        (impairResults[name] ??= {})[s.name] = runs;
      }
    }
  }
  // glass to glass at each row: every delay of every run pooled
  const glassResults = [];
  if (WITH_GLASS) {
    const rows = [...CAPS.map((c) => [`${c}`, c, 0, 0, 0]), ...(WITH_IMPAIR ? IMPAIRS : [])];
    const glassSetups = [
      ["meshsignal", glassRun],
      ...(WITH_PAGES ? [["seed pages (Chromium)", glassPageRun]] : []),
    ];
    for (const [name, cap, loss, delay, jitter] of rows) {
      for (const [who, run] of glassSetups) {
        const pooled = { video: [], audio: [], kbps: [] };
        for (let i = 0; i < RUNS; i++) {
          setRate("h1", cap);
          if (loss || delay || jitter) net("impair", "h1", String(loss), String(delay), String(jitter));
          try {
            const r = await run(SECONDS, () => {});
            pooled.video.push(...r.video);
            pooled.audio.push(...r.audio);
            pooled.kbps.push(median(r.link.slice(SKIP).map((x) => x.kbps)));
            console.error(`${name}, glass, ${who}, run ${i + 1}: video p50 ${quantile(r.video, 0.5)} ms of ${r.video.length} frames, audio p50 ${quantile(r.audio, 0.5)} ms`);
          } finally {
            if (loss || delay || jitter) net("impair", "h1", "off");
          }
        }
        glassResults.push({ name, who, ...pooled });
      }
    }
  }
  const stepResults = {};
  if (WITH_STEP) {
    for (const s of setups) {
      setRate("h1", 3000);
      const r = await s.run(45, (i) => {
        if (i === 15) setRate("h1", 500);
        if (i === 30) setRate("h1", 3000);
      });
      stepResults[s.name] = r;
      console.error(`step, ${s.name}: rx ${r.rx.join(" ")}; kbit/s ${r.link.map((x) => Math.round(x.kbps)).join(" ")}`);
      if (r.estimate) console.error(`step, ${s.name}: Chromium's estimate ${r.estimate.map((x) => Math.round(x)).join(" ")}`);
    }
  }

  const f = (x, d = 0) => (Number.isFinite(x) ? x.toFixed(d) : "-");
  console.log(`\nA capped link (h2 -> h1), ${SECONDS} s from the first frame, the first ${SKIP} left out, median of ${RUNS}`);
  console.log("| cap (kbit/s) | setup | frames shown / made | fps at h1 | freezes > 500 ms | Chromium freezeCount | kbit/s through | packets dropped |");
  console.log("|---|---|---|---|---|---|---|---|");
  for (const cap of CAPS)
    for (const [name, runs] of Object.entries(capResults[cap] ?? {})) {
      const m = (k) => median(runs.map((r) => r[k]));
      console.log(`| ${cap} | ${name} | ${f(100 * m("share"))} % | ${f(m("fps"))} | ${f(m("freezes"))} | ${runs[0].chromeFreezes === null ? "-" : f(m("chromeFreezes"))} | ${f(m("kbps"))} | ${f(m("dropped"))} |`);
    }
  for (const [cap, runs] of Object.entries(impairResults))
    for (const [name, r] of Object.entries(runs)) {
      const m = (k) => median(r.map((x) => x[k]));
      console.log(`| ${cap} | ${name} | ${f(100 * m("share"))} % | ${f(m("fps"))} | ${f(m("freezes"))} | ${r[0].chromeFreezes === null ? "-" : f(m("chromeFreezes"))} | ${f(m("kbps"))} | ${f(m("dropped"))} |`);
    }
  if (WITH_GLASS) {
    console.log(`\nGlass to glass h2 -> h1 (time-coded sources: glass.c, glass-page.mjs), ms, all frames and bursts of ${RUNS} run(s) after the first ${SKIP} s`);
    console.log("| link h2 -> h1 | setup | video p50 | video p95 | frames | audio p50 | audio p95 | bursts | kbit/s through |");
    console.log("|---|---|---|---|---|---|---|---|---|");
    for (const g of glassResults)
      console.log(`| ${g.name} | ${g.who} | ${f(quantile(g.video, 0.5), 1)} | ${f(quantile(g.video, 0.95), 1)} | ${g.video.length} | ${f(quantile(g.audio, 0.5), 1)} | ${f(quantile(g.audio, 0.95), 1)} | ${g.audio.length} | ${f(median(g.kbps))} |`);
  }
  if (WITH_STEP) {
    console.log("\nStep: 3000 kbit/s, 500 from second 15, 3000 from second 30 (one run)");
    console.log("| setup | fps at h1, per second | kbit/s through, per second | settled after the step down | after the step up |");
    console.log("|---|---|---|---|---|");
    for (const [name, r] of Object.entries(stepResults)) {
      const settle = (from, needKbps) => {
        for (let i = from; i + 3 <= r.rx.length; i++)
          if (r.rx.slice(i, i + 3).every((x) => x >= 15) && (!needKbps || r.link[i].kbps >= needKbps)) return `${i - from} s`;
        return "not within 15 s";
      };
      console.log(`| ${name} | ${r.rx.join(" ")} | ${r.link.map((x) => Math.round(x.kbps)).join(" ")} | ${settle(15, 0)} | ${settle(30, 1000)} |`);
    }
    for (const [name, r] of Object.entries(stepResults))
      if (r.estimate) console.log(`\n${name}: the sending page's estimate (availableOutgoingBitrate), kbit/s per second: ${r.estimate.map((x) => Math.round(x)).join(" ")}`);
  }
} finally {
  for (const b of [...Object.values(browsers), ...Object.values(glassBrowsers)]) await b.close().catch(() => {});
  await pageServer?.close();
  await seed.stop();
}
