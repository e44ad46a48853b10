#!/usr/bin/env node
// Glass-to-glass delay, meshsignal beside the seed's page in Chromium, in
// one run: the time code method of tests/bench/glass.c on both sides.
//
// Usage: node tests/bench/glass.mjs [--seconds N] [--rounds R]
//          [--only page-page,page-gst,gst-gst] [--props "K=V ..."]
//          [--deadline MS] [--json] [--timeline]
//   Re-runs itself inside tools/netns-run. Starts the seed's server.ts,
//   serves the seed page unchanged, and per round runs, one after the other
//   (the seed server relays to every client, so never two calls at once):
//     page-page  two seed pages, Start on both, Call on one
//     page-gst   a seed page calls `glass --role wait` (one meshsignal)
//     gst-gst    `glass --pair`: two meshsignal pipelines, A calls B
//   Each call is measured for N s (default 20) after its first frame, both
//   directions. --props goes to every meshsignal, --deadline sets the
//   pipelines' sinks' processing-deadline (GStreamer's default: 20 ms).
//   --timeline prints, for meshsignal -> page, what Chromium held each
//   audio sample and video frame, second by second, beside the delay.
//
// In the pages, glass-page.mjs's init script (the page's script.js is
// untouched) gives the page a time-coded camera and microphone and reads
// the remote video and audio as they are played. Chromium is started
// with --autoplay-policy=no-user-gesture-required so the audio graph runs
// without a click.
//
// Prints a table (p50/p90 ms, n) per direction and medium on stderr and,
// with --json, one JSON line per direction on stdout.

import { spawn } from "node:child_process";
import path from "node:path";
import { fileURLToPath } from "node:url";

const HERE = path.dirname(fileURLToPath(import.meta.url));
const { pageHooks } = await import("./glass-page.mjs");

await (await import("../browser/netns.mjs")).runInNetns();
process.exitCode = await main();

function arg(name, dflt) {
  const i = process.argv.indexOf(name);
  return i > 0 ? process.argv[i + 1] : dflt;
}

function quantile(v, q) {
  const s = [...v].sort((a, b) => a - b);
  if (!s.length) return null;
  return s[Math.min(s.length - 1, Math.floor(q * s.length))];
}

// ---- the run ----

async function main() {
  const SECONDS = Number(arg("--seconds", 20));
  const ROUNDS = Number(arg("--rounds", 1));
  const ONLY = arg("--only", "page-page,page-gst,gst-gst").split(",");
  const PROPS = arg("--props", "");
  const DEADLINE = arg("--deadline", null);
  const JSON_OUT = process.argv.includes("--json");
  const TIMELINE = process.argv.includes("--timeline");

  const { servePage } = await import("../seed/serve-page.mjs");
  const { CHROMIUM_ARGS, CHROMIUM_PATH, clickStart, clickCall } = await import("../browser/seed-page.mjs");
  const { startSeedServer, sleep, BUILD_DIR, gstEnv } = await import("../browser/gst-peer.mjs");
  const { chromium } = await import("playwright-core");
  const GLASS = path.join(BUILD_DIR, "tests", "bench", "glass");

  const state = { procs: new Set() };
  const cleanup = async () => {
    for (const p of state.procs) p.kill("SIGKILL");
    await state.browser?.close().catch(() => {});
    await state.pageServer?.close().catch(() => {});
    await state.seed?.stop().catch(() => {});
  };
  for (const sig of ["SIGINT", "SIGTERM"])
    process.once(sig, async () => {
      await cleanup();
      process.exit(130);
    });

  // per "from->to medium": all samples over the rounds
  const samples = new Map();
  const perRound = new Map(); // key -> [p50 of each round]
  let round = 0;
  const add = (key, v) => {
    if (!samples.has(key)) samples.set(key, []);
    samples.get(key).push(...v);
    if (!perRound.has(key)) perRound.set(key, []);
    perRound.get(key).push(quantile(v, 0.5));
  };

  async function openPage(url) {
    const context = await state.browser.newContext();
    await context.addInitScript(pageHooks);
    const page = await context.newPage();
    page.on("pageerror", (e) => console.error(`[page error] ${e.message}`));
    await page.goto(url);
    await page.waitForFunction(() => typeof socket !== "undefined" && socket.connected, null, {
      timeout: 15000,
      polling: 50,
    });
    return page;
  }
  // what the page's receiver says of itself: jitter buffer and decoding, ms
  // per frame (audio: per sample), from getStats
  const glassOf = (page) =>
    page.evaluate(async () => {
      const g = { ...window.__glass, jb: {} };
      if (typeof peerConnection !== "undefined" && peerConnection) {
        const stats = await peerConnection.getStats();
        const srs = {};
        stats.forEach((r) => {
          if (r.type === "remote-outbound-rtp") srs[r.kind] = r.reportsSent;
        });
        stats.forEach((r) => {
          if (r.type !== "inbound-rtp" || !r.jitterBufferEmittedCount) return;
          g.jb[r.kind] = {
            jitterBuffer: (1000 * r.jitterBufferDelay) / r.jitterBufferEmittedCount,
            target: (1000 * (r.jitterBufferTargetDelay ?? 0)) / r.jitterBufferEmittedCount,
            decode: r.framesDecoded ? (1000 * r.totalDecodeTime) / r.framesDecoded : null,
            // the sender reports it got: lip sync needs two of each kind
            senderReports: srs[r.kind] ?? 0,
          };
        });
      }
      return g;
    });
  const noteJb = (key, g) => {
    for (const [kind, v] of Object.entries(g.jb ?? {}))
      console.error(
        `  ${key} ${kind}: Chromium's jitter buffer ${v.jitterBuffer.toFixed(1)} ms (target ` +
          `${v.target.toFixed(1)})${v.decode !== null ? `, decode ${v.decode.toFixed(1)} ms` : ""}` +
          `, ${v.senderReports} sender reports`,
      );
  };
  // --timeline: meshsignal -> page, second by second: what Chromium held
  // each audio sample and video frame (jitter buffer, and its target), and
  // the glass to glass of the last 15 frames (median) and 3 tone bursts
  async function timeline(page, seconds) {
    const read = () =>
      page.evaluate(async () => {
        const o = { v: window.__glass.video.slice(-15), a: window.__glass.audio.slice(-3) };
        (await peerConnection.getStats()).forEach((r) => {
          if (r.type === "inbound-rtp")
            o[r.kind] = [r.jitterBufferDelay, r.jitterBufferEmittedCount, r.jitterBufferTargetDelay ?? 0];
        });
        return o;
      });
    let prev = await read();
    for (let t = 1; t <= seconds; t++) {
      await sleep(1000);
      const s = await read();
      const held = (k) => {
        const n = s[k] && prev[k] ? s[k][1] - prev[k][1] : 0;
        if (!n) return "-";
        return `${((1000 * (s[k][0] - prev[k][0])) / n).toFixed(1)} (target ${((1000 * (s[k][2] - prev[k][2])) / n).toFixed(1)})`;
      };
      console.error(
        `  t=${t}s held: audio ${held("audio")}, video ${held("video")}; glass: video ${quantile(s.v, 0.5) ?? "-"},` +
          ` audio ${s.a.map((x) => x.toFixed(0)).join(" ")}`,
      );
      prev = s;
    }
  }
  async function waitVideo(page, timeoutMs) {
    await page.waitForFunction(() => window.__glass.video.length > 0, null, { timeout: timeoutMs, polling: 100 });
  }

  // glass.c as a child; resolves to its JSON lines when it exits
  function runGlass(args) {
    const env = gstEnv();
    const extra = [...(PROPS ? ["--props", PROPS] : []), ...(DEADLINE !== null ? ["--deadline", DEADLINE] : [])];
    const proc = spawn(GLASS, [...args, ...extra], {
      env,
      stdio: ["ignore", "pipe", "pipe"],
    });
    state.procs.add(proc);
    let out = "",
      err = "";
    proc.stdout.on("data", (d) => (out += d));
    proc.stderr.on("data", (d) => (err += d));
    const done = new Promise((resolve) =>
      proc.on("exit", (code) => {
        state.procs.delete(proc);
        const lines = out
          .split("\n")
          .filter((l) => l.startsWith("{"))
          .map((l) => JSON.parse(l));
        resolve({ code, lines, err, out });
      }),
    );
    return { proc, done, seenVideo: () => out.includes('"kind":"video"') };
  }
  const fromGlass = (lines, p, kind) => lines.filter((l) => l.p === p && l.kind === kind).map((l) => l.ms);

  let code = 0;
  try {
    state.seed = await startSeedServer();
    state.pageServer = await servePage({ port: 0, seed: "http://127.0.0.1:4000" });
    state.browser = await chromium.launch({
      executablePath: CHROMIUM_PATH,
      headless: true,
      args: [...CHROMIUM_ARGS, "--autoplay-policy=no-user-gesture-required"],
    });
    const url = state.pageServer.url;

    for (round = 1; round <= ROUNDS; round++) {
      if (ONLY.includes("page-page")) {
        const a = await openPage(url);
        const b = await openPage(url);
        try {
          await Promise.all([clickStart(a), clickStart(b)]);
          await clickCall(a);
          await Promise.all([waitVideo(a, 30000), waitVideo(b, 30000)]);
          await sleep(SECONDS * 1000);
          const [ga, gb] = [await glassOf(a), await glassOf(b)];
          noteJb("page->page (A)", ga);
          noteJb("page->page (B)", gb);
          add("page->page video", [...ga.video, ...gb.video]);
          add("page->page audio", [...ga.audio, ...gb.audio]);
          if (ga.errors.length || gb.errors.length) console.error("page errors:", ga.errors, gb.errors);
        } catch (e) {
          console.error(`page-page round ${round}: ${e.message}`);
          code = 1;
        } finally {
          await a.context().close();
          await b.context().close();
        }
        await sleep(1000);
      }

      if (ONLY.includes("page-gst")) {
        const g = runGlass(["--role", "wait", "--seconds", String(SECONDS + 2)]);
        const page = await openPage(url);
        try {
          await sleep(1500); // the pipeline's socket is connected
          await clickStart(page);
          await clickCall(page);
          await waitVideo(page, 30000);
          if (TIMELINE) await timeline(page, SECONDS);
          else await sleep(SECONDS * 1000);
          const gp = await glassOf(page);
          noteJb("gst->page", gp);
          add("gst->page video", gp.video);
          add("gst->page audio", gp.audio);
          const r = await g.done;
          if (r.code !== 0) throw new Error(`glass exited ${r.code}: ${r.err.slice(-2000)}`);
          add("page->gst video", fromGlass(r.lines, "G", "video"));
          add("page->gst audio", fromGlass(r.lines, "G", "audio"));
        } catch (e) {
          console.error(`page-gst round ${round}: ${e.message}`);
          code = 1;
        } finally {
          g.proc.kill("SIGKILL");
          await page.context().close();
        }
        await sleep(1000);
      }

      if (ONLY.includes("gst-gst")) {
        const r = await runGlass(["--pair", "--seconds", String(SECONDS)]).done;
        if (r.code !== 0) {
          console.error(`gst-gst round ${round}: glass exited ${r.code}: ${r.err.slice(-2000)}`);
          code = 1;
        }
        add("gst->gst video", [...fromGlass(r.lines, "A", "video"), ...fromGlass(r.lines, "B", "video")]);
        add("gst->gst audio", [...fromGlass(r.lines, "A", "audio"), ...fromGlass(r.lines, "B", "audio")]);
        for (const l of r.lines) if (l.kind === "pipeline-latency") add("gst pipeline latency", [l.ms]);
        await sleep(1000);
      }
    }
  } catch (e) {
    console.error(e.stack ?? e);
    code = 1;
  } finally {
    await cleanup();
  }

  console.error(
    `\nglass to glass, ${ROUNDS} round(s) of ${SECONDS} s` +
      (PROPS ? `, meshsignal ${PROPS}` : "") +
      (DEADLINE !== null ? `, sinks' processing-deadline ${DEADLINE} ms` : ""),
  );
  console.error("direction                    p50 ms   p90 ms      n   p50 of each round");
  for (const [key, v] of samples) {
    const rounds = perRound.get(key).map((x) => (x === null ? "-" : x.toFixed(1)));
    const row = { key, p50: quantile(v, 0.5), p90: quantile(v, 0.9), n: v.length, rounds };
    console.error(
      `${key.padEnd(26)} ${String(row.p50?.toFixed(1)).padStart(8)} ${String(row.p90?.toFixed(1)).padStart(8)} ` +
        `${String(row.n).padStart(6)}   ${rounds.join(" ")}`,
    );
    if (JSON_OUT) console.log(JSON.stringify(row));
  }
  return code;
}
