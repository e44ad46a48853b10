#!/usr/bin/env node
// Call-setup time browser <-> gst, both directions, beside browser <->
// browser, with the same page, the same seed server and the same Chromium,
// in the same run.
//
// Usage: node tests/bench/browser-gst.mjs [--runs N] [--rounds R]
//          [--seed URL] [--codec vp8|h264] [--timeout MS] [--gap MS]
//          [--only b2b,browser-calls-gst,gst-calls-browser]
//   Outside the network namespace it re-runs itself through tools/netns-run.
//   --seed URL   use an already running seed server (tests/bench/run.sh
//                starts one); default: start tests/seed/server.ts here.
//   --runs N     calls per variant and round (default 10)
//   --rounds R   repeat the three variants R times (default 1), so a load
//                change on the machine hits all of them alike
// Prints one JSON line per call on stdout and a summary line per variant,
// then a table on stderr. Exit 0 if every call worked.
//
// The three variants run one after the other, never at once: the seed's
// server relays every offer to every other client, so a gst pipeline
// connected during a browser <-> browser call would answer it too.
//
//   b2b                two fresh pages of the seed's page per call, Start on
//                      both, Call on one (tests/bench/browser-setup.mjs).
//                      t0 = Call click.
//   browser-calls-gst  one waiting pipeline (gst-launch-1.0 -m, the same
//                      pipeline as gst-mesh-call) for all calls of a round;
//                      per call a fresh page, Start, Call. t0 = Call click.
//                      Before the next call the page is closed and the
//                      pipeline's hang-up (mesh-call ended) awaited, so the
//                      old call's teardown is not timed.
//   gst-calls-browser  one calling pipeline for all calls of a round. Per
//                      call a fresh page is opened and Started right after
//                      the previous one is closed; the pipeline notices the
//                      hang-up (peer-timeout) and calls again, and the
//                      waiting page answers. t0 = the pipeline's call
//                      start (mesh-first-frame wallclock - since-call-start,
//                      i.e. the moment of mesh-call state=calling). A call
//                      whose first offer reached the page before Start (the
//                      page then answers a re-sent offer, up to
//                      offer-interval later) is flagged `resent` and not
//                      counted.
//
// Per call: page = first remote video frame presented in the page
// (requestVideoFrameCallback, Date.now()); gst = mesh-first-frame video
// `wallclock` (the first decoded frame, g_get_real_time(), the same clock);
// setup = max(page, gst) - t0 (for b2b: max of the two pages). The first
// call of each pipeline process is "cold" (it pays the DTLS certificate);
// medians are over the warm calls.

import { dirname, join } from "node:path";
import { fileURLToPath } from "node:url";

const HERE = dirname(fileURLToPath(import.meta.url));

await (await import("../browser/netns.mjs")).runInNetns();
process.exitCode = await main();

function arg(name, dflt) {
  const i = process.argv.indexOf(name);
  return i > 0 ? process.argv[i + 1] : dflt;
}

function stat(v) {
  const s = v.filter((x) => typeof x === "number" && Number.isFinite(x)).sort((a, b) => a - b);
  if (!s.length) return { n: 0, median: null, min: null, max: null };
  const m = s.length % 2 ? s[(s.length - 1) / 2] : (s[s.length / 2 - 1] + s[s.length / 2]) / 2;
  return { n: s.length, median: m, min: s[0], max: s[s.length - 1] };
}

async function main() {
  const RUNS = Number(arg("--runs", 10));
  const ROUNDS = Number(arg("--rounds", 1));
  const SEED_URL = arg("--seed", null);
  const CODEC = arg("--codec", "vp8");
  const TIMEOUT_MS = Number(arg("--timeout", 20000));
  const GAP_MS = Number(arg("--gap", 500));
  const ONLY = arg("--only", "b2b,browser-calls-gst,gst-calls-browser").split(",");

  const { servePage } = await import("../seed/serve-page.mjs");
  const { launch, installTimingHooks, clickStart, clickCall, timing } = await import("../browser/seed-page.mjs");
  const { startGstLaunch, startSeedServer, sleep } = await import("../browser/gst-peer.mjs");

  const state = {};
  const cleanup = async () => {
    await state.gst?.stop().catch(() => {});
    await state.browser?.close().catch(() => {});
    await state.pageServer?.close().catch(() => {});
    await state.seed?.stop().catch(() => {});
  };
  for (const sig of ["SIGINT", "SIGTERM"])
    process.once(sig, async () => {
      await cleanup();
      process.exit(130);
    });

  // a page of our own context, with the timing hooks, and the offers it
  // received counted (to flag answers to re-sent offers)
  async function openPage(url) {
    const context = await state.browser.newContext();
    await context.addInitScript(() => {
      window.__offers = 0;
      const orig = RTCPeerConnection.prototype.setRemoteDescription;
      RTCPeerConnection.prototype.setRemoteDescription = function (d, ...rest) {
        if (d && d.type === "offer") window.__offers++;
        return orig.call(this, d, ...rest);
      };
    });
    const page = await context.newPage();
    await installTimingHooks(page);
    await page.goto(url);
    await page.waitForFunction(() => typeof socket !== "undefined" && socket.connected, null, {
      timeout: 15000,
      polling: 20,
    });
    return page;
  }
  const closePage = (p) => p?.context().close().catch(() => {});

  async function waitPageFrame(page, deadline) {
    for (;;) {
      const t = await timing(page);
      if (t.firstFrame != null) return t;
      if (Date.now() > deadline) throw new Error(`no remote frame in the page: ${JSON.stringify(t)}`);
      await sleep(10);
    }
  }

  const results = [];
  const emit = (r) => {
    results.push(r);
    console.log(JSON.stringify(r));
  };

  let code = 0;
  try {
    if (SEED_URL) state.seedUrl = SEED_URL;
    else {
      state.seed = await startSeedServer();
      state.seedUrl = "http://127.0.0.1:4000";
    }
    state.pageServer = await servePage({ port: 0, seed: state.seedUrl });
    state.browser = await launch();
    const url = state.pageServer.url;

    for (let round = 1; round <= ROUNDS; round++) {
      // ---- browser <-> browser ----
      if (ONLY.includes("b2b"))
        for (let i = 1; i <= RUNS; i++) {
          let caller, callee;
          try {
            caller = await openPage(url);
            callee = await openPage(url);
            await Promise.all([clickStart(caller), clickStart(callee)]);
            await clickCall(caller);
            const deadline = Date.now() + TIMEOUT_MS;
            const [tc, te] = [await waitPageFrame(caller, deadline), await waitPageFrame(callee, deadline)];
            const t0 = tc.callClick;
            emit({
              variant: "b2b",
              round,
              run: i,
              ok: true,
              cold: false,
              setupMs: Math.max(tc.firstFrame, te.firstFrame) - t0,
              callerMs: tc.firstFrame - t0,
              calleeMs: te.firstFrame - t0,
            });
          } catch (e) {
            emit({ variant: "b2b", round, run: i, ok: false, error: e.message });
          } finally {
            await closePage(caller);
            await closePage(callee);
          }
          await sleep(GAP_MS);
        }

      // ---- browser calls gst ----
      if (ONLY.includes("browser-calls-gst")) {
        const gst = (state.gst = startGstLaunch({ server: state.seedUrl, role: "wait", codec: CODEC }));
        await gst.waitFor((e) => e.type === "signalling" && e.state === "connected", 15000);
        for (let i = 1; i <= RUNS; i++) {
          let page;
          const mark = gst.mark();
          try {
            page = await openPage(url);
            await clickStart(page);
            await clickCall(page);
            const deadline = Date.now() + TIMEOUT_MS;
            const call = await gst.waitFor((e) => e.type === "call" && e.state === "connecting", TIMEOUT_MS, {
              from: mark,
            });
            const ff = await gst.waitFor(
              (e) => e.type === "first-frame" && e.media === "video" && e.id === call.id,
              TIMEOUT_MS,
              { from: mark },
            );
            const tp = await waitPageFrame(page, deadline);
            const t0 = tp.callClick;
            emit({
              variant: "browser-calls-gst",
              round,
              run: i,
              ok: true,
              cold: i === 1,
              callId: call.id,
              setupMs: Math.round(Math.max(tp.firstFrame, ff.wallclockMs) - t0),
              pageMs: tp.firstFrame - t0,
              gstMs: Math.round(ff.wallclockMs - t0),
            });
          } catch (e) {
            emit({ variant: "browser-calls-gst", round, run: i, ok: false, error: e.message });
          } finally {
            const endMark = gst.mark();
            await closePage(page);
            // the hang-up, so the next call does not pay for this teardown
            const last = gst.all("call", mark).at(-1);
            if (last && last.state !== "ended" && last.state !== "failed")
              await gst
                .waitFor((e) => e.type === "call" && e.id === last.id && /ended|failed/.test(e.state), 15000, {
                  from: endMark,
                })
                .catch(() => {});
          }
          await sleep(GAP_MS);
        }
        await gst.stop();
        state.gst = null;
      }

      // ---- gst calls browser ----
      if (ONLY.includes("gst-calls-browser")) {
        let page = await openPage(url);
        await clickStart(page);
        const gst = (state.gst = startGstLaunch({ server: state.seedUrl, role: "call", codec: CODEC }));
        let mark = 0;
        for (let i = 1; i <= RUNS; i++) {
          try {
            const deadline = Date.now() + TIMEOUT_MS;
            // the call this page answers: the next one to connect after
            // the previous page was closed
            const conn = await gst.waitFor((e) => e.type === "call" && e.state === "connecting", TIMEOUT_MS, {
              from: mark,
            });
            const ff = await gst.waitFor(
              (e) => e.type === "first-frame" && e.media === "video" && e.id === conn.id,
              TIMEOUT_MS,
              { from: mark },
            );
            const tp = await waitPageFrame(page, deadline);
            const t0 = ff.wallclockMs - ff.sinceCallMs;
            const offers = await page.evaluate(() => window.__offers);
            emit({
              variant: "gst-calls-browser",
              round,
              run: i,
              ok: true,
              cold: i === 1,
              resent: offers > 1,
              callId: conn.id,
              setupMs: Math.round(Math.max(tp.firstFrame, ff.wallclockMs) - t0),
              pageMs: Math.round(tp.firstFrame - t0),
              gstMs: Math.round(ff.sinceCallMs),
            });
          } catch (e) {
            emit({ variant: "gst-calls-browser", round, run: i, ok: false, error: e.message });
          }
          // hang up; the next page is Started before the pipeline notices
          // (peer-timeout, 3 s) and calls again
          const old = page;
          page = null;
          mark = gst.mark();
          await closePage(old);
          if (i < RUNS) {
            page = await openPage(url);
            await clickStart(page);
          }
        }
        await gst.stop();
        state.gst = null;
      }
    }
  } catch (e) {
    code = 1;
    console.error(`browser-gst: FAILED: ${e.stack ?? e.message}`);
  } finally {
    await cleanup();
  }

  // ---- summary ----
  const variants = ["b2b", "browser-calls-gst", "gst-calls-browser"].filter((v) => ONLY.includes(v));
  const label = {
    b2b: "browser -> browser (Call click -> frames)",
    "browser-calls-gst": "browser -> gst (Call click -> frames)",
    "gst-calls-browser": "gst -> browser (call start -> frames)",
  };
  const f = (x) => (x == null ? "-" : String(Math.round(x)));
  console.error(`\ncall-setup, ms, ${CODEC}, ${RUNS} calls x ${ROUNDS} round(s); warm calls only`);
  console.error(`${"".padEnd(44)} ${"median".padStart(7)} ${"min".padStart(6)} ${"max".padStart(6)}  n  | cold | page / gst side medians`);
  for (const v of variants) {
    const rs = results.filter((r) => r.variant === v);
    const warm = rs.filter((r) => r.ok && !r.cold && !r.resent);
    const s = stat(warm.map((r) => r.setupMs));
    const cold = rs.filter((r) => r.ok && r.cold).map((r) => r.setupMs);
    const sideA = stat(warm.map((r) => r.pageMs ?? r.callerMs)).median;
    const sideB = stat(warm.map((r) => r.gstMs ?? r.calleeMs)).median;
    const bad = rs.filter((r) => !r.ok).length;
    const resent = rs.filter((r) => r.resent).length;
    console.log(
      JSON.stringify({
        summary: true,
        variant: v,
        codec: CODEC,
        setupMs: s,
        coldSetupMs: cold,
        failed: bad,
        resent,
        sideMedians: [sideA, sideB],
      }),
    );
    console.error(
      `${label[v].padEnd(44)} ${f(s.median).padStart(7)} ${f(s.min).padStart(6)} ${f(s.max).padStart(6)} ${String(s.n).padStart(2)}  | ${cold.map(f).join(",").padStart(4)} | ${f(sideA)} / ${f(sideB)}` +
        (bad ? `  (${bad} failed)` : "") +
        (resent ? `  (${resent} answered a re-sent offer, not counted)` : ""),
    );
    if (bad) code = 1;
  }
  return code;
}
