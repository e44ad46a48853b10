#!/usr/bin/env node
// Browser <-> browser call-setup baseline for tests/bench: the seed's page
// in two headless Chromium pages, against an already running seed server
// (tests/bench/run.sh starts it), N calls in a row in one Chromium.
//
// Same measurement as tests/browser/browser-to-browser.mjs (which starts its
// own seed server, so cannot share ours): Call click -> first remote video
// frame presented (requestVideoFrameCallback), on the later of the two
// pages; Date.now() in the pages. Each run opens two fresh pages (own
// browser contexts), clicks Start on both, Call on one, waits, closes them.
//
// Usage: tools/netns-run node tests/bench/browser-setup.mjs [--runs N]
//          [--seed URL] [--timeout MS] [--gap MS]
// Prints one JSON line per run on stdout, then a summary line:
//   {"run":i,"ok":true,"setupMs":..,"caller":{frameMs,decodedMs},"callee":{..}}
//   {"summary":true,"runs":N,"setupMs":{"median","min","max","n"},
//    "runs2toN":{...},"run1SetupMs":..}
// Exit 0 if every run succeeded.

import { servePage } from "../seed/serve-page.mjs";
import { launch, openSeedPage, clickStart, clickCall, timing } from "../browser/seed-page.mjs";

function arg(name, dflt) {
  const i = process.argv.indexOf(name);
  return i > 0 ? process.argv[i + 1] : dflt;
}
const RUNS = Number(arg("--runs", 10));
const SEED = arg("--seed", "http://127.0.0.1:4000");
const TIMEOUT_MS = Number(arg("--timeout", 20000));
const GAP_MS = Number(arg("--gap", 500));

const sleep = (ms) => new Promise((r) => setTimeout(r, ms));

async function waitFrames(pages, timeoutMs) {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const t = await Promise.all(pages.map((p) => timing(p)));
    if (t.every((x) => x.firstFrame != null)) return t;
    if (Date.now() > deadline) throw new Error(`no first frame on both pages: ${JSON.stringify(t)}`);
    await sleep(10);
  }
}

function stat(v) {
  const s = v.filter((x) => typeof x === "number").sort((a, b) => a - b);
  if (!s.length) return { n: 0, median: null, min: null, max: null };
  const m = s.length % 2 ? s[(s.length - 1) / 2] : (s[s.length / 2 - 1] + s[s.length / 2]) / 2;
  return { n: s.length, median: m, min: s[0], max: s[s.length - 1] };
}

async function oneRun(browser, url, i) {
  const caller = await openSeedPage(browser, url);
  const callee = await openSeedPage(browser, url);
  try {
    await Promise.all([clickStart(caller), clickStart(callee)]);
    await clickCall(caller);
    const [tc, te] = await waitFrames([caller, callee], TIMEOUT_MS);
    // framesDecoded is polled every 5 ms by the hooks: give it a moment
    await sleep(50);
    const [tc2, te2] = [await timing(caller), await timing(callee)];
    const call = tc.callClick;
    const rel = (t) => (t == null ? null : t - call);
    return {
      run: i,
      ok: true,
      setupMs: Math.max(tc.firstFrame, te.firstFrame) - call,
      caller: { frameMs: rel(tc.firstFrame), decodedMs: rel(tc2.firstDecoded) },
      callee: { frameMs: rel(te.firstFrame), decodedMs: rel(te2.firstDecoded) },
    };
  } finally {
    await caller.context().close().catch(() => {});
    await callee.context().close().catch(() => {});
  }
}

async function main() {
  const pageServer = await servePage({ port: 0, seed: SEED });
  const browser = await launch();
  const results = [];
  try {
    for (let i = 1; i <= RUNS; i++) {
      let r;
      try {
        r = await oneRun(browser, pageServer.url, i);
      } catch (e) {
        r = { run: i, ok: false, error: e.message };
      }
      results.push(r);
      console.log(JSON.stringify(r));
      // let the seed server see both sockets go before the next pair
      await sleep(GAP_MS);
    }
  } finally {
    await browser.close().catch(() => {});
    await pageServer.close().catch(() => {});
  }
  const setups = results.map((r) => (r.ok ? r.setupMs : null));
  console.log(
    JSON.stringify({
      summary: true,
      runs: RUNS,
      run1SetupMs: setups[0],
      setupMs: stat(setups),
      runs2toN: stat(setups.slice(1)),
    }),
  );
  return results.every((r) => r.ok) ? 0 : 1;
}

process.exitCode = await main();
