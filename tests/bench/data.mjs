#!/usr/bin/env node
// Data-channel benchmark (issue 13): message latency and throughput over
// gst-mesh-data, meshsignal <-> meshsignal, Chromium page <-> meshsignal
// and page <-> page (the rooms page, examples/rooms-page), in the same
// run, through gst-mesh-server in the private network namespace.
//
//   node tests/bench/data.mjs [--pings N] [--bulk BYTES] [--runs K]
//
// Each pair has a measuring side and an echo side speaking the bench
// protocol of tests/bench/data-peer.c (text "ping SEQ" / "pong SEQ";
// "bulk BYTES" + the bytes → "bulk-done"; "pull BYTES" → the bytes +
// "pull-done"). Latency is one round trip of a short text message, halved
// (so no clocks need to agree), p50/p90 of N pings sent one at a time;
// throughput is BYTES in 64 KiB binary messages, from the first sent to
// the acknowledgement (push) or the last received (pull), median of K.
// meshsignal's side is tests/bench/data-peer (send-data / data-received);
// a page's is the rooms page's meshControl.sendData / setDataHook, which
// waits on bufferedAmount like any page should.
// Env: GST_MESH_BUILD_DIR (default build/), GST_PLUGIN_PATH.

import { spawn } from "node:child_process";
import path from "node:path";
import { fileURLToPath } from "node:url";

const HERE = path.dirname(fileURLToPath(import.meta.url));
const ROOT = path.resolve(HERE, "..", "..");
await (await import("../browser/netns.mjs")).runInNetns();
const R = await import("../browser/rooms-page.mjs");

const BUILD = path.resolve(process.env.GST_MESH_BUILD_DIR ?? path.join(ROOT, "build"));
const DATA_PEER = path.join(BUILD, "tests", "bench", "data-peer");
process.env.GST_PLUGIN_PATH ??= path.join(BUILD, "plugins");

const opts = { pings: 200, bulk: 10_000_000, runs: 3 };
for (let i = 2; i < process.argv.length; i++) {
  const a = process.argv[i].replace(/^--/, "");
  if (!(a in opts)) throw new Error(`unknown option ${process.argv[i]}`);
  opts[a] = Number(process.argv[++i]);
}

const median = (xs) => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)];

// every data-peer started, stopped in the end whatever happened
const procs = new Set();

function dataPeer(server, room, mode, extra = []) {
  const args = ["--url", server.url, "--room", room, `--${mode}`, ...extra];
  const proc = spawn(DATA_PEER, args, { stdio: ["ignore", "pipe", "pipe"] });
  procs.add(proc);
  let out = "";
  let err = "";
  const id = new Promise((resolve) => {
    proc.stdout.on("data", (d) => {
      out += d;
      const m = / as (\S+)/.exec(out);
      if (m) resolve(m[1]);
    });
  });
  proc.stderr.on("data", (d) => (err += d));
  const done = new Promise((resolve, reject) =>
    proc.on("exit", (code) => {
      const line = out.split("\n").find((l) => l.startsWith("{"));
      if (code === 0 && line) resolve(JSON.parse(line));
      else reject(new Error(`data-peer ${mode} exited ${code}: ${err.slice(-2000)}`));
    }),
  );
  done.catch(() => {});
  return { proc, id, done, stop: () => proc.kill("SIGKILL") };
}

// ---- the page's two sides (run inside the page) ----

function pageEcho() {
  let left = 0;
  let total = 0;
  const piece = new Uint8Array(64 * 1024);
  window.meshControl.setDataHook((id, m) => {
    const send = (x) => window.meshControl.sendData(id, x);
    if (m.bytes) {
      if (left > 0 && (left -= m.bytes.length) <= 0) send(`bulk-done ${total}`);
    } else if (m.text.startsWith("ping ")) send(`pong ${m.text.slice(5)}`);
    else if (m.text.startsWith("bulk ")) left = total = Number(m.text.slice(5));
    else if (m.text.startsWith("pull ")) {
      const n = Number(m.text.slice(5));
      (async () => {
        for (let off = 0; off < n; off += piece.length) await send(piece.subarray(0, Math.min(piece.length, n - off)));
        await send(`pull-done ${n}`);
      })();
    }
    return true;
  });
}

async function pageMeasure({ peer, pings, bulk, runs }) {
  const texts = [];
  const waiters = new Set();
  let pulled = 0;
  const wake = () => waiters.forEach((w) => w());
  window.meshControl.setDataHook((id, m) => {
    if (id !== peer) return false;
    if (m.bytes) pulled += m.bytes.length;
    else texts.push(m.text);
    wake();
    return true;
  });
  const until = (fn) =>
    new Promise((resolve, reject) => {
      const t = setTimeout(() => reject(new Error("timed out")), 60000);
      const w = () => {
        const v = fn();
        if (v) {
          waiters.delete(w);
          clearTimeout(t);
          resolve(v);
        }
      };
      waiters.add(w);
      w();
    });
  const nextText = (prefix) =>
    until(() => {
      const i = texts.findIndex((t) => t.startsWith(prefix));
      return i >= 0 ? texts.splice(i, 1)[0] : null;
    });
  const send = (x) => window.meshControl.sendData(peer, x);
  const piece = new Uint8Array(64 * 1024);
  const lat = [];
  for (let i = 0; i < pings; i++) {
    const t0 = performance.now();
    await send(`ping ${i}`);
    await nextText("pong ");
    lat.push((performance.now() - t0) / 2);
    await new Promise((r) => setTimeout(r, 10));
  }
  lat.sort((a, b) => a - b);
  const push = [];
  const pull = [];
  for (let r = 0; r < runs; r++) {
    const t0 = performance.now();
    await send(`bulk ${bulk}`);
    for (let off = 0; off < bulk; off += piece.length) await send(piece.subarray(0, Math.min(piece.length, bulk - off)));
    await nextText("bulk-done ");
    push.push(bulk / ((performance.now() - t0) / 1000) / 1e6);
  }
  for (let r = 0; r < runs; r++) {
    pulled = 0;
    const t0 = performance.now();
    await send(`pull ${bulk}`);
    await until(() => pulled >= bulk);
    pull.push(bulk / ((performance.now() - t0) / 1000) / 1e6);
    await nextText("pull-done ");
  }
  return {
    latency_ms: { p50: lat[Math.floor(lat.length / 2)], p90: lat[Math.floor((lat.length * 9) / 10)], n: lat.length },
    push_mbps: push,
    pull_mbps: pull,
  };
}

async function channelOpen(page, id) {
  await R.waitFor(page, (p) => window.mesh.peers[p]?.data === "open", id, 60000, `page's data channel to ${id}`);
}

// ---- the three pairs ----

const server = await R.startMeshServer();
const browser = await R.launch();
const rows = [];
const extra = ["--pings", String(opts.pings), "--bulk", String(opts.bulk), "--runs", String(opts.runs)];
try {
  {
    const echo = dataPeer(server, "gg", "echo");
    await echo.id;
    const m = dataPeer(server, "gg", "measure", extra);
    rows.push(["meshsignal -> meshsignal", await m.done]);
    echo.stop();
  }
  {
    const echo = dataPeer(server, "pg", "echo");
    const id = await echo.id;
    const page = await R.openRoomsPage(browser, server.pageUrl, { room: "pg" });
    await channelOpen(page, id);
    rows.push(["page -> meshsignal", await page.evaluate(pageMeasure, { peer: id, ...opts })]);
    echo.stop();
    await page.context().close();
  }
  {
    const echoPage = await R.openRoomsPage(browser, server.pageUrl, { room: "pp" });
    await echoPage.evaluate(pageEcho);
    const page = await R.openRoomsPage(browser, server.pageUrl, { room: "pp" });
    const id = await R.meshId(echoPage);
    await channelOpen(page, id);
    rows.push(["page -> page", await page.evaluate(pageMeasure, { peer: id, ...opts })]);
    await page.context().close();
    await echoPage.context().close();
  }
} finally {
  for (const p of procs) if (p.exitCode === null && p.signalCode === null) p.kill("SIGKILL");
  await browser.close();
  await server.stop();
}

const f = (x, d = 1) => x.toFixed(d);
console.log(`\n${opts.pings} pings one at a time; ${opts.bulk / 1e6} MB in 64 KiB messages, median of ${opts.runs}`);
console.log("| measuring side -> echo side | latency p50 (ms) | p90 (ms) | push (MB/s) | pull (MB/s) |");
console.log("|---|---|---|---|---|");
for (const [name, r] of rows)
  console.log(`| ${name} | ${f(r.latency_ms.p50, 2)} | ${f(r.latency_ms.p90, 2)} | ${f(median(r.push_mbps))} | ${f(median(r.pull_mbps))} |`);
console.log(`\nraw: ${JSON.stringify(Object.fromEntries(rows))}`);
