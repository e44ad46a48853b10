// A meshsignal pipeline as a child process, for the browser interop tests:
// runs build/tools/gst-mesh-call and turns its status lines into events.
//
//   const gst = startGstPeer({ role: "wait", name: "gst", codec: "vp8" });
//   await gst.waitFor((e) => e.type === "call" && e.state === "connected", 30000);
//   await gst.waitForMedia(30000);     // decodes the browser's video and audio
//   await gst.stop();                  // SIGTERM, then SIGKILL after 10 s
//
// Events (gst.events, in order; each has `t` = Date.now() when read, and
// `line`, the raw text):
//   {type:"signalling", state, detail}
//   {type:"call", id, state, elapsedMs, reason}     mesh-call on the bus
//   {type:"first-frame", media, sincePlayingMs, sinceCallMs}
//   {type:"fps", videoSent, videoReceived, audioReceived}   once a second
//   {type:"path", id, localType, relayProtocol, local, remoteType, remote}
//                                                    the ICE pair a call took
//   {type:"gap", ms}         received video stood still ms (> 500) and resumed
//   {type:"warning", text} / {type:"error", text}
//   {type:"exit", code, signal}
//   {type:"other"}                                   anything else
// With trackChildren: true, GST_PARENTAGE debug lines on stderr also give
//   {type:"child-added", bin, child} / {type:"child-removed", bin, child}
// and gst.children("m") is the current set of the meshsignal bin's
// children by name (gst-mesh-call names the element "m"; its webrtcbins
// are "call1", "call2", ...), so a test can see a call's elements go.
//
// Which binary: $GST_MESH_CALL, else $GST_MESH_BUILD_DIR (default ../../build
// from here) + tools/gst-mesh-call. GST_PLUGIN_PATH defaults to the build's
// plugins/ when unset. Everything the process prints is kept (gst.output())
// so a failing test can show it.

import { spawn } from "node:child_process";
import { existsSync } from "node:fs";
import path from "node:path";
import { fileURLToPath } from "node:url";

const HERE = path.dirname(fileURLToPath(import.meta.url));
export const ROOT = path.resolve(HERE, "..", "..");
export const BUILD_DIR = path.resolve(process.env.GST_MESH_BUILD_DIR ?? path.join(ROOT, "build"));
export const GST_MESH_CALL = process.env.GST_MESH_CALL ?? path.join(BUILD_DIR, "tools", "gst-mesh-call");

export const sleep = (ms) => new Promise((r) => setTimeout(r, ms));

/** The environment for a child that loads our plugin: ours plus @extra,
 * with GST_PLUGIN_PATH at the build's plugins unless already set. */
export function gstEnv(extra = {}) {
  const env = { ...process.env, ...extra };
  if (!env.GST_PLUGIN_PATH) env.GST_PLUGIN_PATH = path.join(BUILD_DIR, "plugins");
  return env;
}

// "[name   1.23s] text"
const LINE = /^\[(.+?)\s+(\d+\.\d+)s\] (.*)$/;

/** Parse one status line of gst-mesh-call into an event (without t/line). */
export function parseLine(line) {
  const m = LINE.exec(line);
  if (!m) return { type: "other" };
  const text = m[3];
  const clock = Number(m[2]);
  let r;
  if ((r = /^signalling (\S+) ?(.*)$/.exec(text)))
    return { type: "signalling", clock, state: r[1], detail: r[2] };
  if ((r = /^call (\d+) (\S+) after (\d+) ms \((.*)\)$/.exec(text)))
    return { type: "call", clock, id: Number(r[1]), state: r[2], elapsedMs: Number(r[3]), reason: r[4] };
  if ((r = /^first (\S+) frame from the peer: (\d+) ms after start, (\d+) ms after the call began/.exec(text)))
    return { type: "first-frame", clock, media: r[1], sincePlayingMs: Number(r[2]), sinceCallMs: Number(r[3]) };
  if ((r = /^video sent\s+(\d+) fps, received\s+(\d+) fps; audio received\s+(\d+) buffers\/s/.exec(text)))
    return {
      type: "fps",
      clock,
      videoSent: Number(r[1]),
      videoReceived: Number(r[2]),
      audioReceived: Number(r[3]),
    };
  if ((r = /^call (\d+) path (\w+)(?:\/(\w+))? (\S+) -> (\w+) (\S+)$/.exec(text)))
    return {
      type: "path",
      clock,
      id: Number(r[1]),
      localType: r[2],
      relayProtocol: r[3] ?? "",
      local: r[4],
      remoteType: r[5],
      remote: r[6],
    };
  if ((r = /^video resumed after a gap of (\d+) ms$/.exec(text))) return { type: "gap", clock, ms: Number(r[1]) };
  if ((r = /^warning: (.*)$/.exec(text))) return { type: "warning", clock, text: r[1] };
  if ((r = /^ERROR: (.*)$/.exec(text))) return { type: "error", clock, text: r[1] };
  return { type: "other", clock, text };
}

/**
 * Start gst-mesh-call. Options: server (default http://127.0.0.1:4000),
 * role ("wait" | "call"), codec ("vp8" | "h264" | "vp9"), name, props (extra
 * meshsignal properties as one string), duration (s), env (added to
 * process.env), debug (GST_DEBUG value; the log goes to output() too),
 * pattern (videotestsrc's, e.g. 18 for a moving ball), speed (its
 * horizontal-speed).
 */
export function startGstPeer({
  server = "http://127.0.0.1:4000",
  role = "wait",
  codec = "vp8",
  name = `gst-${role}`,
  props = "",
  duration = 0,
  env = {},
  debug = process.env.GST_MESH_TEST_DEBUG,
  trackChildren = false,
  room = null,
  prefix = [],
  pattern = null,
  speed = null,
} = {}) {
  if (!existsSync(GST_MESH_CALL)) throw new Error(`${GST_MESH_CALL} not found: build first (ninja -C build)`);
  const args = ["--server", server, "--role", role, "--video-codec", codec, "--name", name];
  if (room) args.push("--room", room);
  if (pattern !== null) args.push("--pattern", String(pattern));
  if (speed !== null) args.push("--horizontal-speed", String(speed));
  if (props) args.push("--props", props);
  if (duration) args.push("--duration", String(duration));
  const childEnv = gstEnv(env);
  const cats = [debug, trackChildren ? "GST_PARENTAGE:5" : null].filter(Boolean);
  if (cats.length) {
    childEnv.GST_DEBUG = cats.join(",");
    childEnv.GST_DEBUG_NO_COLOR = "1";
  }
  // prefix: a command that runs gst-mesh-call somewhere else, e.g.
  // ["ip", "netns", "exec", "h1"] (it must exec it: stop() signals its pid)
  const argv = [...prefix, GST_MESH_CALL, ...args];
  const proc = spawn(argv[0], argv.slice(1), { env: childEnv, stdio: ["ignore", "pipe", "pipe"] });
  return new GstPeer(proc, name, args);
}

// ---- the same pipeline through gst-launch-1.0 -m (for the benchmark) ----
//
// gst-launch-1.0 -m prints every element message with all its fields, so
// this gives what gst-mesh-call's human lines leave out: the call-id of a
// first frame and its `wallclock` (µs since the epoch, the clock of the
// pages' Date.now()).

const FIELD = (name, type = "[^)]*") => new RegExp(`[ ,]${name}=\\((?:${type})\\)("(?:[^"\\\\]|\\\\.)*"|[^,;]*)`);
function field(text, name) {
  const m = FIELD(name).exec(text);
  if (!m) return undefined;
  let v = m[1];
  if (v.startsWith('"')) v = v.slice(1, -1).replace(/\\(.)/g, "$1");
  return v;
}

/** Parse one line of gst-launch-1.0 -m output into an event. */
export function parseLaunchLine(line) {
  let m = /^Got message #\d+ from element "[^"]+" \(element\): (mesh-[a-z-]+), (.*)$/.exec(line);
  if (m) {
    const [, name, rest] = m;
    const f = (k) => field(" " + rest, k);
    if (name === "mesh-signalling") return { type: "signalling", state: f("state"), detail: f("detail") };
    if (name === "mesh-call")
      return {
        type: "call",
        id: Number(f("call-id")),
        state: f("state"),
        reason: f("reason"),
        elapsedMs: Number(f("elapsed")) / 1e6,
      };
    if (name === "mesh-first-frame")
      return {
        type: "first-frame",
        media: f("media"),
        id: Number(f("call-id")),
        wallclockMs: Number(f("wallclock")) / 1000,
        sincePlayingMs: Number(f("since-playing")) / 1e6,
        sinceCallMs: Number(f("since-call-start")) / 1e6,
      };
    return { type: "other", name };
  }
  if ((m = /^WARNING: from element (\S+): (.*)$/.exec(line))) return { type: "warning", text: m[2] };
  if ((m = /^ERROR: from element (\S+): (.*)$/.exec(line))) return { type: "error", text: m[2] };
  return { type: "other" };
}

/**
 * The gst-mesh-call pipeline (test sources, fake sinks) run by
 * gst-launch-1.0 -m; events as parseLaunchLine. Stop with stop() (SIGINT:
 * gst-launch sets the pipeline to NULL and exits).
 */
export function startGstLaunch({
  server = "http://127.0.0.1:4000",
  role = "wait",
  codec = "vp8",
  name = `launch-${role}`,
  props = "",
  env = {},
  // what feeds m.video_sink / m.audio_sink (raw, or already encoded)
  video = "videotestsrc is-live=true ! video/x-raw,width=640,height=480,framerate=30/1",
  audio = "audiotestsrc is-live=true wave=ticks",
} = {}) {
  const desc =
    `meshsignal name=m server-url=${server} role=${role} video-codec=${codec} ${props} ` +
    `${video} ! m.video_sink ` +
    `${audio} ! m.audio_sink ` +
    "m.video_src ! fakesink sync=true m.audio_src ! fakesink sync=true";
  const args = ["-m", ...desc.split(/\s+/).filter(Boolean)];
  const childEnv = gstEnv(env);
  const proc = spawn("gst-launch-1.0", args, { env: childEnv, stdio: ["ignore", "pipe", "pipe"] });
  return new GstPeer(proc, name, args, { parse: parseLaunchLine, stopSignal: "SIGINT" });
}

export class GstPeer {
  constructor(proc, name, args, { parse = parseLine, stopSignal = "SIGTERM" } = {}) {
    this.proc = proc;
    this.stopSignal = stopSignal;
    this.name = name;
    this.args = args;
    this.events = [];
    this.lines = [];
    this.stderr = [];
    this.waiters = new Set();
    let partial = "";
    proc.stdout.setEncoding("utf8");
    proc.stdout.on("data", (d) => {
      partial += d;
      let nl;
      while ((nl = partial.indexOf("\n")) >= 0) {
        const line = partial.slice(0, nl);
        partial = partial.slice(nl + 1);
        this.lines.push(line);
        this.push({ ...parse(line), line });
      }
    });
    // GST_DEBUG logs and g_warning/g_critical land here: kept, bounded.
    this.childSets = new Map();
    let errPartial = "";
    proc.stderr.setEncoding("utf8");
    proc.stderr.on("data", (d) => {
      errPartial += d;
      let nl;
      while ((nl = errPartial.indexOf("\n")) >= 0) {
        const line = errPartial.slice(0, nl);
        errPartial = errPartial.slice(nl + 1);
        // GST_PARENTAGE is only asked for to track children: not kept
        if (!line.includes(" GST_PARENTAGE ")) {
          this.stderr.push(line);
          if (this.stderr.length > 200000) this.stderr.splice(0, 100000);
        }
        const m = /gst_bin_(add|remove)_func:<([^>]+)> (?:added element|removed child) "([^"]+)"/.exec(line);
        if (!m) continue;
        const [, op, bin, child] = m;
        if (!this.childSets.has(bin)) this.childSets.set(bin, new Set());
        if (op === "add") this.childSets.get(bin).add(child);
        else this.childSets.get(bin).delete(child);
        this.push({ type: op === "add" ? "child-added" : "child-removed", bin, child, line });
      }
    });
    this.exited = new Promise((resolve) =>
      proc.on("exit", (code, signal) => {
        this.push({ type: "exit", code, signal, line: `exit ${code ?? signal}` });
        resolve({ code, signal });
      }),
    );
  }

  push(e) {
    e.t = Date.now();
    this.events.push(e);
    for (const w of this.waiters) w();
  }

  get alive() {
    return this.proc.exitCode === null && this.proc.signalCode === null;
  }

  /** Names of the current children of `bin` (needs trackChildren). */
  children(bin = "m") {
    return [...(this.childSets.get(bin) ?? [])].sort();
  }

  /** Everything printed on stdout (status lines). */
  output() {
    return this.lines.join("\n");
  }

  /** What was printed on stderr (debug log, criticals), last `max` chars. */
  stderrText(max = 20000) {
    const s = this.stderr.join("\n");
    return s.length > max ? s.slice(-max) : s;
  }

  /**
   * Resolve with the first event (at index >= `from`, default 0) for which
   * pred(event) is true; reject after timeoutMs, or when the process exits
   * first, with the output so far in the message.
   */
  waitFor(pred, timeoutMs, { from = 0, what = "event" } = {}) {
    return new Promise((resolve, reject) => {
      let i = from;
      let timer;
      const check = () => {
        for (; i < this.events.length; i++) {
          const e = this.events[i];
          if (pred(e)) {
            done();
            return resolve(e);
          }
          if (e.type === "exit") {
            done();
            return reject(new Error(`${this.name} exited (${e.code ?? e.signal}) before ${what}:\n${this.output()}`));
          }
        }
      };
      const done = () => {
        clearTimeout(timer);
        this.waiters.delete(check);
      };
      timer = setTimeout(() => {
        done();
        reject(new Error(`${this.name}: no ${what} after ${timeoutMs} ms:\n${this.output()}`));
      }, timeoutMs);
      this.waiters.add(check);
      check();
    });
  }

  /** Events of a type (optionally since index `from`). */
  all(type, from = 0) {
    return this.events.slice(from).filter((e) => e.type === type);
  }

  /** Index of the next event: pass as `from` to wait only for later ones. */
  mark() {
    return this.events.length;
  }

  /**
   * Wait until the pipeline decodes the peer's video and audio: `n`
   * consecutive per-second lines with video received >= minFps and audio
   * received > 0 (default 2, so one burst does not count). Resolves to the
   * last fps event.
   */
  async waitForMedia(timeoutMs, { from = 0, n = 2, minFps = 1, sending = true } = {}) {
    let run = 0;
    return this.waitFor(
      (e) => {
        if (e.type !== "fps") return false;
        const ok = e.videoReceived >= minFps && e.audioReceived > 0 && (!sending || e.videoSent > 0);
        run = ok ? run + 1 : 0;
        return run >= n;
      },
      timeoutMs,
      { from, what: `video and audio from the peer (${n} s in a row)` },
    );
  }

  /**
   * A room pipeline receives video from `peers` peers: two status lines in
   * a row ("video sent 30 fps; 2 peers: ID connected 30 fps ID ...") where
   * each of them is at 1 fps or more.
   */
  waitForRoomVideo(peers, timeoutMs, { from = 0 } = {}) {
    let good = 0;
    return this.waitFor(
      (e) => {
        const m = e.type === "other" && /peers: (.*)$/.exec(e.text ?? "");
        if (!m) return false;
        const fps = [...m[1].matchAll(/(\S+) connected\s+(\d+) fps/g)].map((x) => Number(x[2]));
        good = fps.length >= peers && fps.every((f) => f >= 1) ? good + 1 : 0;
        return good >= 2;
      },
      timeoutMs,
      { from, what: `video from ${peers} peers` },
    );
  }

  /** SIGTERM (gst-mesh-call hangs up and exits; SIGINT for gst-launch),
   * SIGKILL after graceMs. */
  async stop(graceMs = 10000) {
    if (!this.alive) return this.exited;
    this.proc.kill(this.stopSignal);
    const t = setTimeout(() => {
      if (this.alive) this.proc.kill("SIGKILL");
    }, graceMs);
    const r = await this.exited;
    clearTimeout(t);
    return r;
  }
}

// ---- the seed's server (server.ts, fixed port 4000) ----

export const SEED_PORT = 4000;

/**
 * Start the unchanged seed server (tests/seed/server.ts via tsx) in its own
 * process group. Resolves to {proc, log(), connections(), disconnections(),
 * stop()} once it prints its "http://localhost:4000" banner. Needs the
 * private network namespace (port 4000 is fixed).
 */
export async function startSeedServer({ timeoutMs = 30000 } = {}) {
  const proc = spawn(process.execPath, ["--import", "tsx", "seed/server.ts"], {
    cwd: path.join(ROOT, "tests"),
    detached: true, // own process group: stop() takes all of it down
    stdio: ["ignore", "pipe", "pipe"],
  });
  let log = "";
  proc.stdout.on("data", (d) => (log += d));
  proc.stderr.on("data", (d) => (log += d));
  const exited = new Promise((r) => proc.on("exit", (code, signal) => r({ code, signal })));
  const count = (re) => (log.match(re) ?? []).length;
  const server = {
    proc,
    log: () => log,
    connections: () => count(/A user connected/g),
    disconnections: () => count(/User disconnected/g),
    async stop() {
      if (proc.exitCode !== null || proc.signalCode !== null) return exited;
      try {
        process.kill(-proc.pid, "SIGTERM");
      } catch {
        return exited;
      }
      const t = setTimeout(() => {
        try {
          process.kill(-proc.pid, "SIGKILL");
        } catch {}
      }, 5000);
      const r = await exited;
      clearTimeout(t);
      return r;
    },
  };
  const deadline = Date.now() + timeoutMs;
  while (!log.includes(`http://localhost:${SEED_PORT}`)) {
    if (proc.exitCode !== null || proc.signalCode !== null)
      throw new Error(`seed server exited (${proc.exitCode ?? proc.signalCode}):\n${log}`);
    if (Date.now() > deadline) {
      await server.stop();
      throw new Error(`seed server not listening after ${timeoutMs} ms:\n${log}`);
    }
    await sleep(50);
  }
  return server;
}
