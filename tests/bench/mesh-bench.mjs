#!/usr/bin/env node
// Mesh benchmark (issue 5): CPU and memory of one node as its room grows
// from 1 to 4 remote peers, for a meshsignal pipeline and for the rooms
// page in Chromium, in the same run. Run it through tests/bench/mesh-bench.sh
// (which puts it in the network namespace); see tests/bench/README.md,
// "Mesh rooms: cost per remote peer".
//
//   node tests/bench/mesh-bench.mjs [--runs R] [--max-peers N] [--window S]
//        [--settle S] [--video WxH@FPS] [--grid WxH] [--no-browser] [--no-gst]
//        [--threads] [--perf DIR] [--json FILE]
//
// One run of one side: a fresh room on gst-mesh-server; the measured node
// joins (a gst-launch-1.0 meshsignal pipeline, or one rooms page in a
// Chromium of its own), then remote members join one at a time (gst-launch
// meshsignal pipelines, as the measured one but with a small grid). After
// each join: wait until every member decodes video and audio from every
// other, wait --settle s, then measure the node over --window s:
//   CPU  (utime + stime) from /proc/PID/stat, over the window, in % of one
//        core; for Chromium summed over every process of that browser (its
//        own, GPU, utilities, renderer), the renderer also alone;
//   mem  VmRSS (gst) and, for Chromium, the sum of Pss (smaps_rollup) over
//        its processes (their RSS would count shared pages once each).
// Runs alternate gst / Chromium so a change of load hits both. The table
// is medians over the runs per N and the ratio to N=1, and the slowest
// video frame rate the node decoded from a remote in the window (the
// element's stats for gst, getStats for the page), so a saturated machine
// that starves the node shows.
// "limited" counts the runs in which WebRTC in the page limited the video
// it sent a peer (qualityLimitationReason cpu or bandwidth: smaller or
// fewer frames, so less CPU than the same work would take).
// The pipelines run in tests/bench/mesh-node: gst-launch-1.0 -m that
// also prints the element's stats on SIGUSR1 (read before and after each
// window, not during it).

import { spawnSync } from "node:child_process";
import { readFileSync, readdirSync, writeFileSync, mkdirSync } from "node:fs";
import { spawn } from "node:child_process";
import path from "node:path";
import os from "node:os";

const R = await import("../browser/rooms-page.mjs");
const G = await import("../browser/mesh-pipeline.mjs");

const CLK_TCK = Number(spawnSync("getconf", ["CLK_TCK"]).stdout.toString().trim()) || 100;
const PAGE_SIZE_KB = 4;

// ---- options ----

function parseArgs(argv) {
  const o = {
    runs: 3,
    maxPeers: 4,
    window: 10,
    settle: 3,
    video: "320x240@15",
    grid: null,
    browser: true,
    gst: true,
    threads: false,
    perf: null,
    json: null,
    timeout: 90,
  };
  for (let i = 0; i < argv.length; i++) {
    const a = argv[i];
    const next = () => {
      if (i + 1 >= argv.length) throw new Error(`${a} needs a value`);
      return argv[++i];
    };
    if (a === "--runs") o.runs = Number(next());
    else if (a === "--max-peers") o.maxPeers = Number(next());
    else if (a === "--window") o.window = Number(next());
    else if (a === "--settle") o.settle = Number(next());
    else if (a === "--video") o.video = next();
    else if (a === "--grid") o.grid = next();
    else if (a === "--no-browser") o.browser = false;
    else if (a === "--no-gst") o.gst = false;
    else if (a === "--threads") o.threads = true;
    else if (a === "--perf") o.perf = next();
    else if (a === "--json") o.json = next();
    else if (a === "--timeout") o.timeout = Number(next());
    else throw new Error(`unknown option ${a}`);
  }
  const v = /^(\d+)x(\d+)@(\d+)$/.exec(o.video);
  if (!v) throw new Error(`--video ${o.video}: expected WxH@FPS, e.g. 320x240@15`);
  o.videoCaps = { width: Number(v[1]), height: Number(v[2]), fps: Number(v[3]) };
  if (o.grid) {
    const g = /^(\d+)x(\d+)$/.exec(o.grid);
    if (!g) throw new Error(`--grid ${o.grid}: expected WxH`);
    o.gridSize = { width: Number(g[1]), height: Number(g[2]) };
  }
  for (const k of ["runs", "maxPeers", "window", "timeout"])
    if (!(Number.isInteger(o[k]) && o[k] >= 1)) throw new Error(`--${k} must be a whole number >= 1`);
  if (!(o.settle >= 0)) throw new Error("--settle must be >= 0");
  if (!o.browser && !o.gst) throw new Error("--no-browser and --no-gst leave nothing to measure");
  return o;
}

// ---- /proc ----

function readStat(pid) {
  // comm may hold spaces and parentheses: fields start after the last ')'
  const s = readFileSync(`/proc/${pid}/stat`, "utf8");
  const close = s.lastIndexOf(")");
  const f = s.slice(close + 2).split(" ");
  return { comm: s.slice(s.indexOf("(") + 1, close), ppid: Number(f[1]), ticks: Number(f[11]) + Number(f[12]) };
}

function tryRead(fn) {
  try {
    return fn();
  } catch {
    return null; // the process or thread is gone
  }
}

/** pid and all its descendants. */
function processTree(root) {
  const children = new Map();
  for (const d of readdirSync("/proc")) {
    if (!/^\d+$/.test(d)) continue;
    const st = tryRead(() => readStat(d));
    if (!st) continue;
    if (!children.has(st.ppid)) children.set(st.ppid, []);
    children.get(st.ppid).push(Number(d));
  }
  const out = [];
  const todo = [root];
  while (todo.length) {
    const p = todo.pop();
    out.push(p);
    todo.push(...(children.get(p) ?? []));
  }
  return out;
}

function chromiumType(pid) {
  // Chromium rewrites its command line (setproctitle): spaces, not NULs
  const cmd = (tryRead(() => readFileSync(`/proc/${pid}/cmdline`, "utf8")) ?? "").replace(/\0/g, " ");
  const type = /--type=(\S+)/.exec(cmd)?.[1];
  if (!type) return /chrom/.test(tryRead(() => readStat(pid).comm) ?? "") ? "browser" : "other";
  const sub = /--utility-sub-type=(\S+)/.exec(cmd)?.[1];
  return sub ? `utility:${sub.replace(/\.mojom\./, ".")}` : type;
}

function memKb(pid) {
  const status = tryRead(() => readFileSync(`/proc/${pid}/status`, "utf8")) ?? "";
  const rss = Number(/VmRSS:\s+(\d+)/.exec(status)?.[1] ?? 0);
  const roll = tryRead(() => readFileSync(`/proc/${pid}/smaps_rollup`, "utf8")) ?? "";
  const pss = Number(/^Pss:\s+(\d+)/m.exec(roll)?.[1] ?? 0);
  return { rss, pss };
}

/** CPU ticks per thread of @pid: name → ticks (threads of one name summed). */
function threadTicks(pid) {
  const out = new Map();
  for (const tid of tryRead(() => readdirSync(`/proc/${pid}/task`)) ?? []) {
    const st = tryRead(() => readStat(`${pid}/task/${tid}`));
    if (!st) continue;
    out.set(`${tid} ${st.comm}`, st.ticks);
  }
  return out;
}

/** Busy and total ticks of the whole machine (/proc/stat "cpu"). */
function machineTicks() {
  const f = readFileSync("/proc/stat", "utf8").split("\n")[0].trim().split(/\s+/).slice(1).map(Number);
  const idle = f[3] + f[4];
  const total = f.slice(0, 8).reduce((a, b) => a + b, 0);
  return { busy: total - idle, total };
}

const loadavg = () => readFileSync("/proc/loadavg", "utf8").split(" ").slice(0, 3).join(" ");

/**
 * Measure @pids (a function: the set may change, e.g. Chromium starts a
 * process) over @seconds: CPU % of one core per process group, memory at
 * the end, per-thread ticks when @threadsOf is given.
 */
async function measure(pidsFn, seconds, { typeOf = () => "all", threadsOf = null } = {}) {
  const pids0 = pidsFn();
  const t0 = process.hrtime.bigint();
  const m0 = machineTicks();
  const start = new Map(pids0.map((p) => [p, tryRead(() => readStat(p).ticks)]));
  const th0 = threadsOf ? threadTicks(threadsOf) : null;
  await R.sleep(seconds * 1000);
  const pids1 = pidsFn();
  const th1 = threadsOf ? threadTicks(threadsOf) : null;
  const end = new Map(pids1.map((p) => [p, tryRead(() => readStat(p).ticks)]));
  const m1 = machineTicks();
  const secs = Number(process.hrtime.bigint() - t0) / 1e9;
  const byType = {};
  let ticks = 0;
  let rss = 0;
  let pss = 0;
  for (const p of pids1) {
    const e = end.get(p);
    if (e === null) continue;
    // a process started in the window counts from its start
    const d = e - (start.get(p) ?? 0);
    const type = typeOf(p);
    byType[type] = (byType[type] ?? 0) + d;
    ticks += d;
    const mem = memKb(p);
    rss += mem.rss;
    pss += mem.pss;
  }
  const pct = (t) => (100 * t) / CLK_TCK / secs;
  const threads = {};
  if (th0 && th1)
    for (const [k, v] of th1) {
      const name = k.slice(k.indexOf(" ") + 1);
      threads[name] = (threads[name] ?? 0) + pct(v - (th0.get(k) ?? 0));
    }
  return {
    cpu: pct(ticks),
    byType: Object.fromEntries(Object.entries(byType).map(([k, v]) => [k, pct(v)])),
    rssMb: rss / 1024,
    pssMb: pss / 1024,
    procs: pids1.length,
    machineBusy: (100 * (m1.busy - m0.busy)) / (m1.total - m0.total),
    threads,
  };
}

// ---- members ----

let serial = 0;

function remoteMember(server, room, o) {
  return G.startRoomPipeline({
    url: server.url,
    room,
    name: `remote${++serial}`,
    video: o.videoCaps,
    // the remotes' own output is not measured: the smallest grid
    grid: { width: 160, height: 120 },
    pattern: "smpte",
    videoSrcProps: "horizontal-speed=2",
  });
}

/** Until every pipeline in @pipes decodes all of @ids but itself. */
function pipesDecode(pipes, ids, timeoutMs) {
  return Promise.all(pipes.map((p) => p.waitForDecoding(ids.filter((id) => id !== p.id), timeoutMs)));
}

async function perfRecord(pid, file, seconds) {
  const p = spawn("perf", ["record", "-q", "-F", "499", "-g", "-p", String(pid), "-o", file, "--", "sleep", String(seconds)], {
    stdio: "ignore",
  });
  await new Promise((r) => {
    p.on("exit", r);
    p.on("error", (e) => {
      console.error(`perf: ${e.message}`);
      r();
    });
  });
}

async function runGst(server, o, run, log) {
  const room = `bench-gst-${run}-${Math.random().toString(36).slice(2, 6)}`;
  const node = G.startRoomPipeline({
    url: server.url,
    room,
    name: "measured",
    video: o.videoCaps,
    grid: o.gridSize,
    pattern: "smpte",
    videoSrcProps: "horizontal-speed=2",
  });
  const remotes = [];
  const rows = [];
  try {
    node.id = await node.waitForId(o.timeout * 1000);
    for (let n = 1; n <= o.maxPeers; n++) {
      const r = remoteMember(server, room, o);
      remotes.push(r);
      r.id = await r.waitForId(o.timeout * 1000);
      const all = [node, ...remotes];
      await pipesDecode(all, all.map((p) => p.id), o.timeout * 1000);
      await R.sleep(o.settle * 1000);
      // the element's stats just outside the window (reading them asks
      // every webrtcbin for its get-stats)
      const s0 = await node.readStats();
      const m = await measure(() => [node.pid], o.window, { threadsOf: o.threads || o.perf ? node.pid : null });
      const s1 = await node.readStats();
      const fps = remotes.map((x) => {
        const a = s0.peers.find((p) => p["peer-id"] === x.id);
        const b = s1.peers.find((p) => p["peer-id"] === x.id);
        return a && b && a["call-id"] === b["call-id"] ? (b.video - a.video) / o.window : NaN;
      });
      // still a complete mesh at the end of the window
      await pipesDecode(all, all.map((p) => p.id), 1000);
      rows.push({ side: "gst", run, n, ...m, fps });
      log(
        `gst run ${run} N=${n}: ${m.cpu.toFixed(1)} % CPU, RSS ${m.rssMb.toFixed(1)} MB, decodes ${fps
          .map((f) => f.toFixed(1))
          .join("/")} fps, machine ${m.machineBusy.toFixed(0)} % busy, load ${loadavg()}`,
      );
      if (o.perf && run === 1) {
        mkdirSync(o.perf, { recursive: true });
        await perfRecord(node.pid, path.join(o.perf, `gst-N${n}.data`), o.window);
      }
    }
  } finally {
    await Promise.all([node, ...remotes].map((p) => p.stop()));
  }
  return rows;
}

/** What the page sends each peer now: video size and WebRTC's quality limitation. */
function pageSends(page, ids) {
  return page.evaluate(async (ids) => {
    const out = [];
    for (const id of ids) {
      const r = { width: 0, height: 0, limited: "?" };
      const pc = window.meshControl.pc(id);
      if (pc)
        (await pc.getStats()).forEach((s) => {
          if (s.type === "outbound-rtp" && s.kind === "video") {
            r.width = s.frameWidth ?? 0;
            r.height = s.frameHeight ?? 0;
            r.limited = s.qualityLimitationReason ?? "?";
          }
        });
      out.push(r);
    }
    return out;
  }, ids);
}

async function runBrowser(server, o, run, log) {
  const room = `bench-page-${run}-${Math.random().toString(36).slice(2, 6)}`;
  // one browser for the one measured page: all its processes are the page's
  const browser = await R.launch();
  const remotes = [];
  const rows = [];
  try {
    const page = await R.openRoomsPage(browser, server.pageUrl, { room, video: o.video });
    const pageId = await R.meshId(page);
    // the browser: the child of this process that is neither a remote nor the server
    const known = new Set([server.proc.pid]);
    const roots = () =>
      readdirSync("/proc")
        .filter((d) => /^\d+$/.test(d))
        .map(Number)
        .filter((p) => tryRead(() => readStat(p).ppid) === process.pid && !known.has(p) && !remotes.some((r) => r.pid === p));
    const browserPids = () => roots().flatMap((p) => processTree(p));
    const typeOf = (p) => chromiumType(p);
    for (let n = 1; n <= o.maxPeers; n++) {
      const r = remoteMember(server, room, o);
      remotes.push(r);
      r.id = await r.waitForId(o.timeout * 1000);
      const ids = [pageId, ...remotes.map((x) => x.id)];
      await Promise.all([
        R.waitForMesh(
          page,
          remotes.map((x) => x.id),
          o.timeout * 1000,
        ),
        pipesDecode(remotes, ids, o.timeout * 1000),
      ]);
      await R.sleep(o.settle * 1000);
      const s0 = await R.meshStats(page);
      const m = await measure(browserPids, o.window, { typeOf });
      const s1 = await R.meshStats(page);
      const sent = await pageSends(page, remotes.map((x) => x.id));
      // frames the page decoded per remote per second in the window
      const fps = remotes.map((x) => (s1[x.id].framesDecoded - (s0[x.id]?.framesDecoded ?? 0)) / o.window);
      await pipesDecode(remotes, ids, 1000);
      rows.push({ side: "chromium", run, n, ...m, fps, sent });
      log(
        `chromium run ${run} N=${n}: ${m.cpu.toFixed(1)} % CPU (${Object.entries(m.byType)
          .map(([k, v]) => `${k} ${v.toFixed(1)}`)
          .join(", ")}), PSS ${m.pssMb.toFixed(0)} MB, ${m.procs} processes, decodes ${fps.map((f) => f.toFixed(1)).join("/")} fps, sends ${sent
          .map((x) => `${x.width}x${x.height}${x.limited !== "none" ? ` (${x.limited}-limited)` : ""}`)
          .join("/")}, machine ${m.machineBusy.toFixed(0)} % busy, load ${loadavg()}`,
      );
    }
  } finally {
    await browser.close().catch(() => {});
    await Promise.all(remotes.map((p) => p.stop()));
  }
  return rows;
}

// ---- the table ----

const median = (xs) => {
  const s = [...xs].sort((a, b) => a - b);
  const m = s.length >> 1;
  return s.length % 2 ? s[m] : (s[m - 1] + s[m]) / 2;
};

function table(rows, o) {
  const lines = [];
  const pad = (s, w) => String(s).padStart(w);
  const sides = ["gst", "chromium"].filter((s) => rows.some((r) => r.side === s));
  const med = {};
  for (const side of sides)
    for (let n = 1; n <= o.maxPeers; n++) {
      const rs = rows.filter((r) => r.side === side && r.n === n);
      if (!rs.length) continue;
      med[`${side}${n}`] = {
        cpu: median(rs.map((r) => r.cpu)),
        rss: median(rs.map((r) => r.rssMb)),
        pss: median(rs.map((r) => r.pssMb)),
        renderer: median(rs.map((r) => r.byType.renderer ?? 0)),
        busy: median(rs.map((r) => r.machineBusy)),
        fps: median(rs.map((r) => Math.min(...(r.fps ?? [NaN])))),
        // runs in which the page sent a peer less than it captured (CPU or bandwidth)
        limited: rs.filter((r) => (r.sent ?? []).some((x) => x.limited !== "none")).length,
        runs: rs.length,
      };
    }
  const head = ["N", "gst CPU %", "x N=1", "gst RSS MB", "min fps"];
  if (sides.includes("chromium")) head.push("page CPU %", "x N=1", "renderer %", "page PSS MB", "min fps", "limited");
  head.push("machine busy %");
  const w = head.map((h) => Math.max(h.length, 7));
  lines.push(head.map((h, i) => pad(h, w[i])).join("  "));
  for (let n = 1; n <= o.maxPeers; n++) {
    const g = med[`gst${n}`];
    const c = med[`chromium${n}`];
    const cells = [n];
    cells.push(
      g ? g.cpu.toFixed(1) : "-",
      g && med.gst1 ? (g.cpu / med.gst1.cpu).toFixed(2) : "-",
      g ? g.rss.toFixed(1) : "-",
      g ? g.fps.toFixed(1) : "-",
    );
    if (sides.includes("chromium"))
      cells.push(
        c ? c.cpu.toFixed(1) : "-",
        c && med.chromium1 ? (c.cpu / med.chromium1.cpu).toFixed(2) : "-",
        c ? c.renderer.toFixed(1) : "-",
        c ? c.pss.toFixed(0) : "-",
        c ? c.fps.toFixed(1) : "-",
        c ? `${c.limited}/${c.runs}` : "-",
      );
    cells.push([g, c].filter(Boolean).map((x) => x.busy.toFixed(0)).join(" / "));
    lines.push(cells.map((x, i) => pad(x, w[i])).join("  "));
  }
  if (med.gst1 && med.gst3)
    lines.push(
      `target: gst N=3 costs ${(med.gst3.cpu / med.gst1.cpu).toFixed(2)}x the CPU of N=1 (target <= 1.6): ${
        med.gst3.cpu / med.gst1.cpu <= 1.6 ? "met" : "NOT met"
      }`,
    );
  return lines.join("\n");
}

function threadTable(rows, o) {
  // the encoders' chains are queue0 and queue1 (made first); other queues
  // are the peers' send branches; digits become N otherwise
  const norm = (k) => (/^queue[01]:/.test(k) ? `${k} (encoder)` : k.replace(/\d+/g, "N"));
  const gst = rows
    .filter((r) => r.side === "gst")
    .map((r) => {
      const threads = {};
      for (const [k, v] of Object.entries(r.threads)) threads[norm(k)] = (threads[norm(k)] ?? 0) + v;
      return { ...r, threads };
    });
  const names = new Set(gst.flatMap((r) => Object.keys(r.threads)));
  const byN = {};
  for (let n = 1; n <= o.maxPeers; n++) {
    const rs = gst.filter((r) => r.n === n);
    byN[n] = Object.fromEntries([...names].map((k) => [k, median(rs.map((r) => r.threads[k] ?? 0))]));
  }
  const order = [...names].sort((a, b) => (byN[o.maxPeers][b] ?? 0) - (byN[o.maxPeers][a] ?? 0));
  const lines = [`gst node, CPU % of one core per thread name (same names summed), medians:`];
  lines.push(["thread".padEnd(26), ...Array.from({ length: o.maxPeers }, (_, i) => `N=${i + 1}`.padStart(7))].join(" "));
  for (const k of order) {
    if (Math.max(...Object.values(byN).map((b) => b[k])) < 0.2) continue;
    lines.push([k.padEnd(26), ...Array.from({ length: o.maxPeers }, (_, i) => byN[i + 1][k].toFixed(1).padStart(7))].join(" "));
  }
  return lines.join("\n");
}

// ---- main ----

async function main() {
  let o;
  try {
    o = parseArgs(process.argv.slice(2));
  } catch (e) {
    console.error(`${e.message}\nusage: mesh-bench.mjs [--runs R] [--max-peers N] [--window S] [--settle S] [--video WxH@FPS] [--grid WxH] [--no-browser] [--no-gst] [--threads] [--perf DIR] [--json FILE]`);
    return 2;
  }
  const log = (s) => console.error(`[${new Date().toISOString().slice(11, 19)}] ${s}`);
  const loadBefore = loadavg();
  log(`load average ${loadBefore}, ${os.cpus().length} CPUs; ${o.runs} runs, N = 1..${o.maxPeers}, video ${o.video}, window ${o.window} s after ${o.settle} s settle`);
  const server = await R.startMeshServer();
  const rows = [];
  try {
    for (let run = 1; run <= o.runs; run++) {
      if (o.gst) rows.push(...(await runGst(server, o, run, log)));
      if (o.browser) rows.push(...(await runBrowser(server, o, run, log)));
    }
  } finally {
    await server.stop();
  }
  const loadAfter = loadavg();
  console.log(
    `mesh benchmark: one node in a room of N remote meshsignal members; video ${o.video} VP8 + Opus everywhere; ` +
      `gst node grid ${o.grid ?? "640x480 (default)"}; CPU (utime+stime) over ${o.window} s, ${o.settle} s after all decode all; ` +
      `medians of ${o.runs} runs; CPU in % of one core; ${os.cpus().length} CPUs, load average before ${loadBefore}, after ${loadAfter}`,
  );
  console.log(table(rows, o));
  if (o.threads) console.log(threadTable(rows, o));
  if (o.json) writeFileSync(o.json, JSON.stringify({ options: o, loadBefore, loadAfter, rows }, null, 1));
  return 0;
}

process.exitCode = await main();
