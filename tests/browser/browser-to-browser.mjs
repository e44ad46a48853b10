#!/usr/bin/env node
// Proof that the seed demo works as published: two Chromium pages, the
// unchanged seed server (server.ts via tsx), Start on both, Call on one,
// until both receive video and audio. Prints the setup time as JSON.
//
// Usage: tools/netns-run node tests/browser/browser-to-browser.mjs [--timeout MS]
//   (run outside a namespace, it re-runs itself through tools/netns-run)
// Exit 0 on success; 1 with a message on stderr on failure or timeout
// (default 60000 ms for the whole run).
//
// Output (one JSON line), times in ms, all from Date.now() in the pages:
//   setupMs               Call click -> first remote frame presented on the
//                         later of the two sides
//   caller/callee.frameMs Call click -> that side's first presented frame
//   caller/callee.decodedMs  Call click -> getStats framesDecoded > 0

import { spawn } from "node:child_process";
import { fileURLToPath } from "node:url";
import { dirname, join } from "node:path";
import { servePage } from "../seed/serve-page.mjs";
import {
  launch,
  openSeedPage,
  clickStart,
  clickCall,
  waitForRemoteMedia,
  remoteStats,
  timing,
} from "./seed-page.mjs";

const HERE = dirname(fileURLToPath(import.meta.url));
const TESTS = dirname(HERE);
const SEED_PORT = 4000; // fixed in server.ts

const timeoutArg = process.argv.indexOf("--timeout");
const TIMEOUT_MS = timeoutArg > 0 ? Number(process.argv[timeoutArg + 1]) : 60000;

// Outside the private namespace: re-run inside it (port 4000 and the
// 10.213.0.1 address are then ours alone).
await (await import("./netns.mjs")).runInNetns();
process.exitCode = await main();

// Start server.ts in its own process group; resolve once it prints its
// "[Local] http://localhost:4000" banner (printed from listen's callback).
function startSeedServer() {
  const child = spawn(process.execPath, ["--import", "tsx", "seed/server.ts"], {
    cwd: TESTS,
    detached: true, // own process group, so cleanup can kill all of it
    stdio: ["ignore", "pipe", "pipe"],
  });
  const log = [];
  let timer;
  const ready = new Promise((resolve, reject) => {
    child.stdout.on("data", (d) => {
      log.push(String(d));
      if (log.join("").includes(`http://localhost:${SEED_PORT}`)) resolve();
    });
    child.stderr.on("data", (d) => log.push(String(d)));
    child.on("exit", (code, sig) => reject(new Error(`seed server exited (${code ?? sig})`)));
    timer = setTimeout(() => reject(new Error("seed server not listening after 20 s")), 20000);
  }).finally(() => clearTimeout(timer));
  return { child, ready, log };
}

async function stopGroup(child) {
  if (!child || child.exitCode !== null || child.signalCode !== null) return;
  const gone = new Promise((r) => child.once("exit", r));
  try {
    process.kill(-child.pid, "SIGTERM");
  } catch {
    return;
  }
  const t = setTimeout(() => {
    try {
      process.kill(-child.pid, "SIGKILL");
    } catch {}
  }, 3000);
  await gone;
  clearTimeout(t);
}

function withTimeout(promise, ms) {
  // The loser of the race may still reject later (e.g. when cleanup closes
  // the browser under it): that must not become an unhandled rejection,
  // which would kill us before the seed server is stopped.
  promise.catch(() => {});
  let timer;
  return Promise.race([
    promise,
    new Promise((_, reject) => {
      timer = setTimeout(() => reject(new Error(`timeout after ${ms} ms`)), ms);
    }),
  ]).finally(() => clearTimeout(timer));
}

async function run(state) {
  state.stage = "starting the seed server";
  state.seed = startSeedServer();
  await state.seed.ready;

  state.stage = "starting the page server";
  state.pageServer = await servePage({ port: 0, seed: `http://127.0.0.1:${SEED_PORT}` });

  state.stage = "launching Chromium";
  state.browser = await launch();

  state.stage = "opening the two pages";
  const caller = await openSeedPage(state.browser, state.pageServer.url);
  const callee = await openSeedPage(state.browser, state.pageServer.url);
  state.pages = { caller, callee };

  state.stage = "clicking Start";
  await Promise.all([clickStart(caller), clickStart(callee)]);

  state.stage = "calling and waiting for remote media on both sides";
  await clickCall(caller);
  const [callerStats, calleeStats] = await Promise.all([
    waitForRemoteMedia(caller, TIMEOUT_MS),
    waitForRemoteMedia(callee, TIMEOUT_MS),
  ]);

  const [tc, te] = [await timing(caller), await timing(callee)];
  const call = tc.callClick;
  const rel = (t) => (t === null || t === undefined || call === null ? null : t - call);
  const side = (t, stats) => ({ frameMs: rel(t.firstFrame), decodedMs: rel(t.firstDecoded), stats });
  const result = {
    ok: true,
    setupMs:
      tc.firstFrame != null && te.firstFrame != null
        ? Math.max(tc.firstFrame, te.firstFrame) - call
        : Math.max(tc.firstDecoded, te.firstDecoded) - call,
    caller: side(tc, callerStats),
    callee: side(te, calleeStats),
  };
  console.log(JSON.stringify(result));
}

async function main() {
  // Progress on stderr: which stage, and when (ms since start).
  const t0 = Date.now();
  let stage = "starting";
  const state = {
    get stage() {
      return stage;
    },
    set stage(s) {
      stage = s;
      console.error(`browser-to-browser: +${Date.now() - t0} ms ${s}`);
    },
  };
  // Interrupted (Ctrl-C, kill): the finally below will not run, so at least
  // take the seed server's process group down; Playwright kills Chromium
  // itself on exit.
  for (const sig of ["SIGINT", "SIGTERM"]) {
    process.once(sig, () => {
      console.error(`browser-to-browser: ${sig} while ${state.stage}, cleaning up`);
      try {
        process.kill(-state.seed.child.pid, "SIGKILL");
      } catch {}
      process.exit(130);
    });
  }
  let code = 0;
  try {
    await withTimeout(run(state), TIMEOUT_MS);
  } catch (e) {
    code = 1;
    console.error(`browser-to-browser: FAILED while ${state.stage}: ${e.message}`);
    for (const [name, page] of Object.entries(state.pages ?? {})) {
      const s = await remoteStats(page).catch(() => null);
      console.error(`  ${name} stats: ${JSON.stringify(s)}`);
    }
    if (state.seed) console.error(`  seed server log:\n${state.seed.log.join("").replace(/^/gm, "    ")}`);
  } finally {
    state.stage = "closing Chromium";
    await state.browser?.close().catch(() => {});
    state.stage = "closing the page server";
    await state.pageServer?.close().catch(() => {});
    state.stage = "stopping the seed server";
    await stopGroup(state.seed?.child);
    state.stage = "done";
  }
  return code;
}
