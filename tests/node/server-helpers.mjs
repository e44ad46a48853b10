// Shared fixtures for the server-*.test.mjs suites: start one of our C
// servers on a free port, wait until it listens, stop it afterwards.
//
// Which binary: $GST_MESH_BUILD_DIR (default: ../../build, the usual meson
// build directory) + tests/servers/<name> or tools/<name>; or an explicit
// path in $GST_MESH_<NAME> (EIO_ECHO_SERVER, SIO_TEST_SERVER,
// GST_MESH_SERVER). $GST_MESH_SERVER_WRAPPER (e.g. "valgrind -q
// --error-exitcode=99") runs the server under a tool. $GST_MESH_TARGET_URL
// points the suite at an already running server instead (the Node reference,
// to check that the tests test the protocol and not our server).

import { spawn } from "node:child_process";
import { existsSync } from "node:fs";
import path from "node:path";
import { fileURLToPath } from "node:url";
import { WebSocket } from "ws";

const here = path.dirname(fileURLToPath(import.meta.url));
const buildDir = process.env.GST_MESH_BUILD_DIR ?? path.join(here, "..", "..", "build");

const binaries = {
  "eio-echo-server": ["EIO_ECHO_SERVER", "tests/servers/eio-echo-server"],
  "sio-test-server": ["SIO_TEST_SERVER", "tests/servers/sio-test-server"],
  "gst-mesh-server": ["GST_MESH_SERVER", "tools/gst-mesh-server"],
};

export const sleep = (ms) => new Promise((r) => setTimeout(r, ms));

// The arguments of @emitter's next @event (a socket.io-client socket),
// rejected after @ms.
export const once = (emitter, event, ms) =>
  new Promise((resolve, reject) => {
    const t = setTimeout(() => reject(new Error(`no ${event}`)), ms);
    emitter.once(event, (...a) => {
      clearTimeout(t);
      resolve(a);
    });
  });

// Starts a server; resolves to { url, port, proc, output(), stop() }.
export async function startServer(name, args = [], { env = {} } = {}) {
  if (process.env.GST_MESH_TARGET_URL) {
    const url = process.env.GST_MESH_TARGET_URL.replace(/\/$/, "");
    return { url, port: Number(new URL(url).port), output: () => "", stop: async () => {} };
  }
  const [envName, rel] = binaries[name];
  const bin = process.env[`GST_MESH_${envName}`] ?? path.join(buildDir, rel);
  if (!existsSync(bin)) throw new Error(`${bin} not found: build first or set GST_MESH_${envName}`);
  const wrapper = (process.env.GST_MESH_SERVER_WRAPPER ?? "").split(" ").filter(Boolean);
  const cmd = [...wrapper, bin, ...args];
  const proc = spawn(cmd[0], cmd.slice(1), {
    env: { ...process.env, PORT: "0", ...env },
    stdio: ["ignore", "pipe", "pipe"],
  });
  let out = "";
  proc.stdout.on("data", (d) => (out += d));
  proc.stderr.on("data", (d) => (out += d));
  const port = await new Promise((resolve, reject) => {
    const timer = setTimeout(() => reject(new Error(`${name} did not start:\n${out}`)), 20000);
    const check = () => {
      const m = out.match(/(?:on|Listening on) https?:\/\/[^:\s]+:(\d+)/);
      if (m) {
        clearTimeout(timer);
        resolve(Number(m[1]));
      }
    };
    proc.stdout.on("data", check);
    proc.on("exit", (code) => reject(new Error(`${name} exited with ${code}:\n${out}`)));
  });
  const exited = new Promise((r) => proc.on("exit", (code, sig) => r({ code, sig })));
  return {
    url: `http://127.0.0.1:${port}`,
    port,
    proc,
    output: () => out,
    alive: () => proc.exitCode === null && proc.signalCode === null,
    async stop() {
      if (proc.exitCode !== null || proc.signalCode !== null) return exited;
      proc.kill("SIGTERM");
      const t = setTimeout(() => proc.kill("SIGKILL"), 30000);
      const r = await exited;
      clearTimeout(t);
      return r;
    },
  };
}

// The Node reference of the rooms server (examples/rooms-server/server.mjs)
// on a free port, with the same options as gst-mesh-server; resolves like
// startServer().
export async function startRoomsReference(args = []) {
  const script = path.join(here, "..", "..", "examples", "rooms-server", "server.mjs");
  const proc = spawn(process.execPath, [script, "0", ...args], { stdio: ["ignore", "pipe", "pipe"] });
  let out = "";
  proc.stdout.on("data", (d) => (out += d));
  proc.stderr.on("data", (d) => (out += d));
  const exited = new Promise((r) => proc.on("exit", (code, sig) => r({ code, sig })));
  const port = await new Promise((resolve, reject) => {
    const timer = setTimeout(() => reject(new Error(`rooms-server did not start:\n${out}`)), 20000);
    proc.stdout.on("data", () => {
      const m = out.match(/Listening on https?:\/\/[^:\s]+:(\d+)/);
      if (m) {
        clearTimeout(timer);
        resolve(Number(m[1]));
      }
    });
    proc.on("exit", (code) => reject(new Error(`rooms-server exited with ${code}:\n${out}`)));
  });
  return {
    url: `http://127.0.0.1:${port}`,
    port,
    proc,
    output: () => out,
    alive: () => proc.exitCode === null && proc.signalCode === null,
    async stop() {
      if (proc.exitCode === null && proc.signalCode === null) proc.kill("SIGTERM");
      return exited;
    },
  };
}

// A raw WebSocket that queues what it receives, so tests can await messages
// in order without racing the listener.
export class RawSocket {
  // autoPong: answer server pings as they come, so a test can wait long
  // (the official suites' raw sockets do not, and time out after 500 ms).
  constructor(url, { autoPong = false } = {}) {
    this.autoPong = autoPong;
    this.ws = new WebSocket(url);
    this.ws.binaryType = "nodebuffer";
    this.queue = [];
    this.waiters = [];
    this.closed = false;
    this.closeCode = undefined;
    this.ws.on("message", (data, isBinary) => this.push(isBinary ? Buffer.from(data) : data.toString()));
    this.ws.on("error", () => {});
    this.closedPromise = new Promise((r) =>
      this.ws.on("close", (code) => {
        this.closed = true;
        this.closeCode = code;
        for (const w of this.waiters.splice(0)) w.reject(new Error(`closed (${code})`));
        r(code);
      }),
    );
    this.opened = new Promise((resolve, reject) => {
      this.ws.on("open", resolve);
      this.ws.on("unexpected-response", (req, res) => reject(Object.assign(new Error(`HTTP ${res.statusCode}`), { res })));
      this.ws.on("close", () => reject(new Error("closed before open")));
    });
  }
  push(m) {
    if (this.autoPong && m === "2") {
      this.send("3");
      return;
    }
    const w = this.waiters.shift();
    if (w) w.resolve(m);
    else this.queue.push(m);
  }
  // Next message; server pings ("2") are answered and skipped unless asked.
  async next({ timeout = 3000, keepPings = false } = {}) {
    for (;;) {
      const m = this.queue.length
        ? this.queue.shift()
        : await new Promise((resolve, reject) => {
            if (this.closed) return reject(new Error(`closed (${this.closeCode})`));
            const w = { resolve, reject };
            this.waiters.push(w);
            setTimeout(() => {
              const i = this.waiters.indexOf(w);
              if (i >= 0) {
                this.waiters.splice(i, 1);
                reject(new Error("timeout waiting for a message"));
              }
            }, timeout);
          });
      if (!keepPings && m === "2") {
        this.send("3");
        continue;
      }
      return m;
    }
  }
  send(m) {
    this.ws.send(m);
  }
  close() {
    this.ws.close();
  }
  waitClose(timeout = 3000) {
    return Promise.race([this.closedPromise, sleep(timeout).then(() => { throw new Error("not closed"); })]);
  }
}

// Opens a Socket.IO connection to "/" over a raw WebSocket and eats the
// CONNECT reply; returns the socket.
export async function rawSioConnect(base, { nsp = "", skip = 1 } = {}) {
  const s = new RawSocket(`${base.replace(/^http/, "ws")}/socket.io/?EIO=4&transport=websocket`, { autoPong: true });
  await s.next(); // Engine.IO open
  s.send(`40${nsp}`);
  for (let i = 0; i < skip; i++) await s.next();
  return s;
}

export async function pollingHandshake(base, prefix = "/engine.io/") {
  const res = await fetch(`${base}${prefix}?EIO=4&transport=polling`);
  const text = await res.text();
  return JSON.parse(text.substring(1)).sid;
}
