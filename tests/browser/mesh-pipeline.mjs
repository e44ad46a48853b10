// A meshsignal pipeline in a mesh room as a child process, `meshsignal
// room=R` with test sources in and fakesinks out, its bus messages turned
// into state. For the mixed mesh test (tests/browser/mixed-mesh.test.mjs)
// and the mesh benchmark (tests/bench/mesh-bench.mjs).
//
//   const p = startRoomPipeline({ url: server.url, room: "r", name: "gstA" });
//   await p.waitForId(20000);               // our socket id (mesh-signalling)
//   await p.waitForDecoding([idB, idC], 60000);
//   await p.waitForRising([idB, idC], 30000); // mesh-node only: stats rise
//   p.peers()                               // ids in the room, from mesh-peer
//   await p.waitForLeft(idC, 10000);        // mesh-peer event=left for idC
//   await p.stop();                         // SIGINT: a clean stop, exit 0
//
// The program (option `program`):
//   "mesh-node" (default)  tests/bench/mesh-node from the build: prints the
//                          element messages as gst-launch -m does, and the
//                          element's `stats` on SIGUSR1 (p.readStats());
//   "gst-launch"           gst-launch-1.0 -m: the same messages, no stats.
//
// "Decodes a peer": the latest call to that peer id (mesh-call, by call-id)
// is connected and posted mesh-first-frame for both video and audio, and no
// mesh-peer left came for it since. "Keeps decoding" (waitForRising, needs
// the stats): the peer's connected call decoded more video frames and audio
// buffers in a later stats reading than in an earlier one.
//
// Events (p.events, in order; each has t = Date.now() when read):
//   {type:"message", name, fields}   an element message of meshsignal "m"
//   {type:"stats", stats}            a mesh-stats line (mesh-node)
//   {type:"error"|"warning", text}   ERROR:/WARNING: lines
//   {type:"exit", code, signal}
//
// Binaries: $GST_MESH_NODE (default $GST_MESH_BUILD_DIR/tests/bench/mesh-node,
// build/ by default), $GST_LAUNCH (default gst-launch-1.0 from PATH).
// GST_PLUGIN_PATH: $GST_PLUGIN_PATH, else the build's plugins/.
// Everything printed is kept (p.output()).

import { spawn } from "node:child_process";
import path from "node:path";
import { fileURLToPath } from "node:url";

const HERE = path.dirname(fileURLToPath(import.meta.url));
export const ROOT = path.resolve(HERE, "..", "..");
export const BUILD_DIR = path.resolve(process.env.GST_MESH_BUILD_DIR ?? path.join(ROOT, "build"));
export const GST_LAUNCH = process.env.GST_LAUNCH ?? "gst-launch-1.0";
export const MESH_NODE = process.env.GST_MESH_NODE ?? path.join(BUILD_DIR, "tests", "bench", "mesh-node");

const sleep = (ms) => new Promise((r) => setTimeout(r, ms));

/**
 * Parse a GstStructure as gst_structure_to_string() writes it
 * (`name, key=(type)value, key=(type)"quoted\ value";`) into
 * {name, fields} (quoted strings unescaped, \ooo bytes read as UTF-8).
 * Values stay strings, except (uint)/(int)/(guint64)/
 * (gint64)/(double) numbers and (boolean). Returns null if it is not one.
 */
export function parseStructure(text) {
  const m = /^([A-Za-z][\w+-]*)(?=[,;]|$)/.exec(text);
  if (!m) return null;
  const fields = {};
  let i = m[0].length;
  while (i < text.length && text[i] === ",") {
    const f = /^, ([\w-]+)=\((\w+)\)/.exec(text.slice(i));
    if (!f) return null;
    i += f[0].length;
    let raw = "";
    if (text[i] === '"') {
      // GStreamer writes bytes outside printable ASCII as \ooo (octal):
      // gather bytes, then read them as UTF-8
      const bytes = [];
      for (i++; i < text.length && text[i] !== '"'; i++) {
        if (text[i] === "\\" && /^[0-7]{3}$/.test(text.slice(i + 1, i + 4))) {
          bytes.push(parseInt(text.slice(i + 1, i + 4), 8));
          i += 3;
          continue;
        }
        if (text[i] === "\\" && i + 1 < text.length) i++;
        bytes.push(...new TextEncoder().encode(text[i]));
      }
      raw = new TextDecoder().decode(new Uint8Array(bytes));
      i++; // closing quote
    } else {
      // unquoted: up to the next field or the end (no nesting in what
      // meshsignal posts)
      const end = text.slice(i).search(/, [\w-]+=\(|;\s*$/);
      raw = end < 0 ? text.slice(i) : text.slice(i, i + end);
      i += raw.length;
      raw = raw.replace(/\\(.)/g, "$1");
    }
    const type = f[2];
    if (/^g?u?int(64)?$|^double$|^float$/.test(type) && raw !== "" && !Number.isNaN(Number(raw))) fields[f[1]] = Number(raw);
    else if (type === "boolean") fields[f[1]] = raw === "true";
    else fields[f[1]] = raw;
  }
  return { name: m[1], fields };
}

// gst-launch -m: `Got message #12 from element "m" (element): mesh-call, ...;`
const MESSAGE = /^Got message #\d+ from element "([^"]+)" \(element\): (.*)$/;

/** The launch line: meshsignal "m" in @room with test sources and fakesinks. */
export function roomPipelineDescription({
  url,
  room,
  video = { width: 320, height: 240, fps: 15 },
  grid = null, // {width, height} of video_src; default the element's
  pattern = "smpte",
  videoSrcProps = "", // more videotestsrc properties, e.g. "horizontal-speed=2"
  props = "", // more meshsignal properties
}) {
  const gridProps = grid ? `grid-width=${grid.width} grid-height=${grid.height}` : "";
  return [
    `meshsignal name=m server-url=${url} room=${room} ${gridProps} ${props}`,
    `videotestsrc is-live=true pattern=${pattern} ${videoSrcProps} ! video/x-raw,width=${video.width},height=${video.height},framerate=${video.fps}/1 ! m.video_sink`,
    `audiotestsrc is-live=true wave=ticks ! m.audio_sink`,
    `m.video_src ! fakesink sync=true`,
    `m.audio_src ! fakesink sync=true`,
  ].join(" ");
}

/**
 * Spawn mesh-node (or gst-launch-1.0 -m, @opts.program "gst-launch") with
 * roomPipelineDescription(@opts) (or @opts.description, a full launch line
 * with a meshsignal named "m").
 */
export function startRoomPipeline(opts) {
  const name = opts.name ?? "gst";
  const program = opts.program ?? "mesh-node";
  const description = opts.description ?? roomPipelineDescription(opts);
  const env = { ...process.env, ...(opts.env ?? {}) };
  env.GST_PLUGIN_PATH ??= path.join(BUILD_DIR, "plugins");
  // both split their arguments back into one description
  const words = description.split(/\s+/).filter(Boolean);
  let cmd;
  let args;
  if (program === "mesh-node") [cmd, args] = [MESH_NODE, ["--", ...words]];
  else if (program === "gst-launch") [cmd, args] = [GST_LAUNCH, ["-m", ...words]];
  else throw new Error(`program ${program}: "mesh-node" or "gst-launch"`);
  const proc = spawn(cmd, args, { stdio: ["ignore", "pipe", "pipe"], env });
  const events = [];
  let out = "";
  let partial = "";
  const waiters = new Set();
  const state = {
    id: null,
    members: new Map(), // peer id -> {joined: t, left: t|null, uid}
    calls: new Map(), // call-id -> {peerId, state, reason, video, audio}
    stats: null, // the last mesh-stats: {"local-id", peers: [{peer-id, state, call-id, video, audio}]}
    statsCount: 0,
  };

  const notify = () => {
    for (const w of [...waiters]) w();
  };

  const onMessage = (s) => {
    const f = s.fields;
    if (s.name === "mesh-signalling" && f.state === "connected") {
      const m = / as (\S+)$/.exec(f.detail ?? "");
      if (m) state.id = m[1];
    } else if (s.name === "mesh-peer") {
      if (f.event === "joined") state.members.set(f["peer-id"], { joined: Date.now(), left: null, uid: f.uid });
      else if (f.event === "left") {
        const m = state.members.get(f["peer-id"]) ?? { joined: null, uid: f.uid };
        m.left = Date.now();
        state.members.set(f["peer-id"], m);
      }
    } else if (s.name === "mesh-call") {
      const c = state.calls.get(f["call-id"]) ?? { peerId: f["peer-id"], video: null, audio: null };
      c.state = f.state;
      c.reason = f.reason;
      if (f["peer-id"]) c.peerId = f["peer-id"];
      state.calls.set(f["call-id"], c);
    } else if (s.name === "mesh-first-frame") {
      const c = state.calls.get(f["call-id"]) ?? { peerId: null, state: null, video: null, audio: null };
      c[f.media] = Date.now();
      state.calls.set(f["call-id"], c);
    }
  };

  const onLine = (line) => {
    const t = Date.now();
    let m;
    if ((m = MESSAGE.exec(line)) && m[1] === "m") {
      const s = parseStructure(m[2]);
      if (s) {
        events.push({ type: "message", t, ...s });
        onMessage(s);
      }
    } else if (line.startsWith("mesh-stats: ")) {
      try {
        state.stats = JSON.parse(line.slice(12));
        state.statsCount++;
        events.push({ type: "stats", t, stats: state.stats });
      } catch (e) {
        events.push({ type: "error", t, text: `unreadable stats line (${e.message}): ${line}` });
      }
    } else if (/^ERROR: /.test(line)) {
      events.push({ type: "error", t, text: line });
    } else if (/^WARNING: /.test(line)) {
      events.push({ type: "warning", t, text: line });
    }
  };

  proc.stdout.on("data", (d) => {
    out += d;
    partial += d;
    const lines = partial.split("\n");
    partial = lines.pop();
    for (const l of lines) onLine(l);
    notify();
  });
  proc.stderr.on("data", (d) => (out += d));
  const exited = new Promise((r) =>
    proc.on("exit", (code, signal) => {
      events.push({ type: "exit", t: Date.now(), code, signal });
      notify();
      r({ code, signal });
    }),
  );
  proc.on("error", (e) => {
    events.push({ type: "error", t: Date.now(), text: `${cmd}: ${e.message}` });
    notify();
  });

  const alive = () => proc.exitCode === null && proc.signalCode === null;

  /** Resolves to @fn()'s value once truthy; rejects after @timeoutMs or on exit. */
  function waitFor(fn, timeoutMs, what) {
    return new Promise((resolve, reject) => {
      const check = () => {
        let v;
        try {
          v = fn();
        } catch (e) {
          done();
          reject(e);
          return;
        }
        if (v) {
          done();
          resolve(v);
        } else if (!alive()) {
          done();
          reject(new Error(`${name}: exited (${proc.exitCode ?? proc.signalCode}) before ${what}`));
        }
      };
      const timer = setTimeout(() => {
        done();
        reject(new Error(`${name}: no ${what} after ${timeoutMs} ms; ${describe()}`));
      }, timeoutMs);
      const done = () => {
        clearTimeout(timer);
        waiters.delete(check);
      };
      waiters.add(check);
      check();
    });
  }

  /** The latest call (highest call-id) to @peerId, or null. */
  function callTo(peerId) {
    let best = null;
    for (const [id, c] of state.calls) if (c.peerId === peerId && (!best || id > best.id)) best = { id, ...c };
    return best;
  }

  function decodes(peerId) {
    const c = callTo(peerId);
    const m = state.members.get(peerId);
    return !!(c && c.state === "connected" && c.video && c.audio && m && m.left === null);
  }

  /** Ids of the members in the room now (joined, not left). */
  const peers = () => [...state.members].filter(([, m]) => m.left === null).map(([id]) => id).sort();

  function describe() {
    const calls = [...state.calls].map(([id, c]) => `${id}→${c.peerId}:${c.state}${c.video ? "+v" : ""}${c.audio ? "+a" : ""}`);
    return `id ${state.id}, peers [${peers().join(", ")}], calls [${calls.join(", ")}]`;
  }

  return {
    name,
    proc,
    pid: proc.pid,
    events,
    state,
    output: () => out,
    alive,
    describe,
    callTo,
    decodes,
    peers,
    waitFor,
    errors: () => events.filter((e) => e.type === "error"),
    waitForId: (timeoutMs) => waitFor(() => state.id, timeoutMs, "socket id (mesh-signalling connected)"),
    /** Until exactly @peerIds are in the room and each is decoded. */
    waitForDecoding(peerIds, timeoutMs) {
      const want = [...peerIds].sort();
      return waitFor(
        () => JSON.stringify(peers()) === JSON.stringify(want) && want.every(decodes),
        timeoutMs,
        `video and audio decoded from exactly [${want.join(", ")}]`,
      );
    },
    /** mesh-node: the element's stats now (SIGUSR1, then the next mesh-stats line). */
    async readStats(timeoutMs = 10000) {
      if (program !== "mesh-node") throw new Error(`${name}: ${program} cannot read stats`);
      const n = state.statsCount;
      if (alive()) proc.kill("SIGUSR1");
      await waitFor(() => state.statsCount > n, timeoutMs, "a mesh-stats line");
      return state.stats;
    },
    /**
     * mesh-node: until each of @peerIds has a connected call whose decoded
     * video frames and audio buffers rose between two stats readings.
     */
    async waitForRising(peerIds, timeoutMs, { intervalMs = 500 } = {}) {
      const deadline = Date.now() + timeoutMs;
      const of = (st, id) => st.peers.find((x) => x["peer-id"] === id && x.state === "connected");
      const up = (st) => peerIds.every((id) => of(st, id));
      let first = null;
      let last = null;
      for (;;) {
        last = await this.readStats(Math.max(1000, deadline - Date.now()));
        if (
          first &&
          peerIds.every((id) => {
            const a = of(first, id);
            const b = of(last, id);
            return b && a["call-id"] === b["call-id"] && b.video > a.video && b.audio > a.audio;
          })
        )
          return last;
        // start again from here when a call is missing or was replaced
        if (!first || !up(last) || peerIds.some((id) => of(first, id)["call-id"] !== of(last, id)["call-id"]))
          first = up(last) ? last : null;
        if (Date.now() >= deadline)
          throw new Error(
            `${name}: decoded video and audio of [${peerIds.join(", ")}] did not rise in ${timeoutMs} ms; ` +
              `first ${JSON.stringify(first)}, last ${JSON.stringify(last)}`,
          );
        await sleep(intervalMs);
      }
    },
    /** Until mesh-peer event=left came for @peerId. */
    waitForLeft(peerId, timeoutMs) {
      return waitFor(() => state.members.get(peerId)?.left ?? null, timeoutMs, `mesh-peer left for ${peerId}`);
    },
    /** SIGINT (gst-launch stops the pipeline and exits), SIGKILL after @graceMs. */
    async stop(graceMs = 10000) {
      if (alive()) proc.kill("SIGINT");
      const t = setTimeout(() => proc.kill("SIGKILL"), graceMs);
      const r = await exited;
      clearTimeout(t);
      return r;
    },
    kill() {
      if (alive()) proc.kill("SIGKILL");
      return exited;
    },
  };
}

export { sleep };
