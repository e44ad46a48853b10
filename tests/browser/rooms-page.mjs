#!/usr/bin/env node
// Drive the mesh rooms page (examples/rooms-page) in Debian's Chromium via
// playwright-core, and start the servers it runs against.
//
// As a module:
//   const server = await startMeshServer();           // gst-mesh-server, serving the page
//   const browser = await launch();                   // seed-page.mjs's flags
//   const a = await openRoomsPage(browser, server.pageUrl, { room: "r" });
//   const b = await openRoomsPage(browser, server.pageUrl, { room: "r" });
//   await waitForMesh(a, [await meshId(b)]);           // a decodes b's video and audio
//
// As a CLI (browsers for a mixed mesh with pipelines, or a look by hand):
//   node tests/browser/rooms-page.mjs URL [--room R] [--pages N] [--server ORIGIN]
//        [--expect N] [--timeout MS] [--hold MS] [--screenshot PREFIX]
//   Opens N pages (default 1) at URL (a server that serves the page, e.g.
//   gst-mesh-server --web-root examples/rooms-page), joins room R, waits
//   until every page decodes video and audio from at least --expect remote
//   peers (default N-1, at least 1), prints one JSON line {ok, pages:[…]},
//   then with --hold keeps them up for MS ms, a stats line each second.
//   Exit 0 on success, 1 on failure or timeout (default 60000 ms).
//   Run it inside tools/netns-run.
//
// What "decodes a peer" means (mediaFlows): the page has a tile for it with
// frames presented (requestVideoFrameCallback), and the peer's connection
// reports inbound video framesDecoded, audio packetsReceived and
// totalSamplesReceived that all rose since they were first seen non-zero.

import { spawn } from "node:child_process";
import { existsSync } from "node:fs";
import { createServer } from "node:http";
import { readFile } from "node:fs/promises";
import path from "node:path";
import { fileURLToPath } from "node:url";
import { launch } from "./seed-page.mjs";

export { launch };

const HERE = path.dirname(fileURLToPath(import.meta.url));
export const ROOT = path.resolve(HERE, "..", "..");
export const PAGE_DIR = path.join(ROOT, "examples", "rooms-page");
export const CLIENT_SCRIPT = path.join(ROOT, "tests", "node_modules", "socket.io", "client-dist", "socket.io.js");
export const NODE_ROOMS_SERVER = path.join(ROOT, "examples", "rooms-server", "server.mjs");

export const sleep = (ms) => new Promise((r) => setTimeout(r, ms));

export function meshServerBinary() {
  return (
    process.env.GST_MESH_GST_MESH_SERVER ??
    path.join(process.env.GST_MESH_BUILD_DIR ?? path.join(ROOT, "build"), "tools", "gst-mesh-server")
  );
}

// Spawn a server that prints "Listening on http://HOST:PORT"; resolves to
// {port, url, output(), alive(), stop()} once it does.
function spawnListening(name, cmd, args) {
  const proc = spawn(cmd, args, { stdio: ["ignore", "pipe", "pipe"] });
  let out = "";
  proc.stdout.on("data", (d) => (out += d));
  proc.stderr.on("data", (d) => (out += d));
  const exited = new Promise((r) => proc.on("exit", (code, sig) => r({ code, sig })));
  return new Promise((resolve, reject) => {
    const timer = setTimeout(() => {
      proc.kill("SIGKILL");
      reject(new Error(`${name} did not start in 20 s:\n${out}`));
    }, 20000);
    proc.on("error", (e) => reject(new Error(`${name}: ${e.message}`)));
    proc.on("exit", (code, sig) => {
      clearTimeout(timer);
      reject(new Error(`${name} exited (${code ?? sig}) before listening:\n${out}`));
    });
    proc.stdout.on("data", () => {
      const m = /Listening on https?:\/\/[^:\s]+:(\d+)/.exec(out);
      if (!m) return;
      clearTimeout(timer);
      const port = Number(m[1]);
      resolve({
        name,
        port,
        url: `http://127.0.0.1:${port}`,
        proc,
        output: () => out,
        alive: () => proc.exitCode === null && proc.signalCode === null,
        async stop() {
          if (proc.exitCode === null && proc.signalCode === null) proc.kill("SIGTERM");
          const t = setTimeout(() => proc.kill("SIGKILL"), 10000);
          const r = await exited;
          clearTimeout(t);
          return r;
        },
      });
    });
  });
}

/**
 * gst-mesh-server on a free port of 127.0.0.1, serving the rooms page and
 * the socket.io client script: pageUrl is where a browser opens the page.
 */
export async function startMeshServer({ args = [] } = {}) {
  const bin = meshServerBinary();
  if (!existsSync(bin)) throw new Error(`${bin} not found: build first or set GST_MESH_GST_MESH_SERVER`);
  const s = await spawnListening("gst-mesh-server", bin, [
    "--port=0",
    "--address=127.0.0.1",
    `--web-root=${PAGE_DIR}`,
    `--client-script=${CLIENT_SCRIPT}`,
    ...args,
  ]);
  return { ...s, pageUrl: `${s.url}/` };
}

/**
 * The Node reference rooms server (examples/rooms-server/server.mjs). It
 * serves no page: pair it with servePageDir() and open the page with
 * ?server=<its url> (the page loads the client script from there too).
 */
export function startNodeRoomsServer() {
  return spawnListening("rooms-server", process.execPath, [NODE_ROOMS_SERVER, "0"]);
}

const TYPES = {
  ".html": "text/html; charset=utf-8",
  ".css": "text/css; charset=utf-8",
  ".js": "text/javascript; charset=utf-8",
};

/** A static server for examples/rooms-page on 127.0.0.1: {url, close()}. */
export function servePageDir({ dir = PAGE_DIR, port = 0 } = {}) {
  const root = path.resolve(dir) + path.sep;
  const server = createServer(async (req, res) => {
    const p = decodeURIComponent(new URL(req.url, "http://x").pathname);
    const file = path.normalize(path.join(root, p === "/" ? "index.html" : p));
    if (!file.startsWith(root) || !TYPES[path.extname(file)]) {
      res.writeHead(404).end("not found\n");
      return;
    }
    try {
      const body = await readFile(file);
      res.writeHead(200, { "Content-Type": TYPES[path.extname(file)], "Cache-Control": "no-store" });
      res.end(body);
    } catch {
      res.writeHead(404).end("not found\n");
    }
  });
  return new Promise((resolve, reject) => {
    server.once("error", reject);
    server.listen(port, "127.0.0.1", () => {
      const actual = server.address().port;
      resolve({
        url: `http://127.0.0.1:${actual}/`,
        close: () =>
          new Promise((r) => {
            server.closeAllConnections?.();
            server.close(() => r());
          }),
      });
    });
  });
}

/**
 * Open the rooms page in a fresh browser context (a separate "browser")
 * and join @room.
 *   clicks: true   go through the UI: type the room, click Start, click Join
 *           false  (default) ?auto=1 starts and joins on load
 *   server: signalling origin (?server=), for a page served elsewhere
 *   video:  camera size (?video=), small by default to spare the CPU
 * Resolves to the page once it is in the room (window.mesh.room set);
 * page.__log collects its console and errors.
 */
export async function openRoomsPage(
  browser,
  pageUrl,
  { room = "mesh", clicks = false, server = null, video = "160x120@15", stun = null, joinTimeoutMs = 30000 } = {},
) {
  const context = await browser.newContext();
  const page = await context.newPage();
  page.__log = [];
  page.__errors = [];
  page.on("console", (m) => {
    page.__log.push(`[${m.type()}] ${m.text()}`);
    if (m.type() === "error") page.__errors.push(m.text());
  });
  page.on("pageerror", (e) => {
    page.__log.push(`[pageerror] ${e.message}`);
    page.__errors.push(e.message);
  });
  const url = new URL(pageUrl);
  if (!clicks) {
    url.searchParams.set("room", room);
    url.searchParams.set("auto", "1");
  }
  if (server) url.searchParams.set("server", server);
  if (video) url.searchParams.set("video", video);
  if (stun) url.searchParams.set("stun", stun);
  await page.goto(url.href);
  if (clicks) {
    await page.fill("#roomInput", room);
    await page.click("#startButton");
    await page.waitForFunction(() => window.mesh?.local === true, null, { timeout: joinTimeoutMs, polling: 50 });
    await page.click("#joinButton");
  }
  await page.waitForFunction((r) => window.mesh?.room === r && !!window.mesh.id, room, {
    timeout: joinTimeoutMs,
    polling: 50,
  });
  return page;
}

/** The page's socket id in its room. */
export const meshId = (page) => page.evaluate(() => window.mesh.id);

/** window.mesh as plain data. */
export const meshState = (page) => page.evaluate(() => JSON.parse(JSON.stringify(window.mesh)));

/** Per remote peer getStats figures (window.meshControl.stats()). */
export const meshStats = (page) => page.evaluate(() => window.meshControl.stats());

/** The grid as the user sees it: [{peer, caption}] in DOM order. */
export const tiles = (page) =>
  page.evaluate(() =>
    [...document.querySelectorAll("#remoteGrid .tile")].map((t) => ({
      peer: t.dataset.peer,
      caption: t.querySelector("figcaption").textContent,
    })),
  );

/** One look at everything: {id, room, tiles, peers (state), stats}. */
export async function snapshot(page) {
  const [state, stats, grid] = await Promise.all([meshState(page), meshStats(page), tiles(page)]);
  return { id: state.id, room: state.room, tiles: grid, peers: state.peers, stats, errors: state.errors };
}

/**
 * Poll until @page has exactly the tiles of @peerIds and decodes video and
 * audio from each (see "decodes a peer" above). Resolves to the last
 * snapshot; rejects with it on timeout.
 */
export async function waitForMesh(page, peerIds, timeoutMs = 60000, { intervalMs = 250 } = {}) {
  const want = [...peerIds].sort();
  const deadline = Date.now() + timeoutMs;
  const first = {};
  let last = null;
  for (;;) {
    last = await snapshot(page);
    const have = last.tiles.map((t) => t.peer).sort();
    let ok = JSON.stringify(have) === JSON.stringify(want);
    for (const id of want) {
      const s = last.stats[id];
      const v = last.peers[id];
      const flowing = s && v && v.frames > 0 && s.framesDecoded > 0 && s.audioPacketsReceived > 0 && s.totalSamplesReceived > 0;
      if (!flowing) {
        ok = false;
        continue;
      }
      if (!first[id]) {
        first[id] = s;
        ok = false;
      } else if (
        !(
          s.framesDecoded > first[id].framesDecoded &&
          s.audioPacketsReceived > first[id].audioPacketsReceived &&
          s.totalSamplesReceived > first[id].totalSamplesReceived
        )
      ) {
        ok = false;
      }
    }
    if (ok) return last;
    if (Date.now() >= deadline)
      throw new Error(
        `page ${last.id}: no media from all of ${JSON.stringify(want)} after ${timeoutMs} ms; last ${JSON.stringify(last)}`,
      );
    await sleep(intervalMs);
  }
}

/** Poll until @fn(page) is truthy; resolves to its value, rejects on timeout with @what. */
export async function waitFor(page, fn, arg, timeoutMs, what) {
  try {
    const h = await page.waitForFunction(fn, arg, { timeout: timeoutMs, polling: 50 });
    return await h.jsonValue();
  } catch (e) {
    throw new Error(`${what}: ${e.message.split("\n")[0]}`);
  }
}

// ---- CLI ----

function parseArgs(argv) {
  const o = { url: null, room: "mesh", pages: 1, server: null, expect: null, timeout: 60000, hold: 0, screenshot: null };
  for (let i = 0; i < argv.length; i++) {
    const a = argv[i];
    const next = () => {
      if (i + 1 >= argv.length) throw new Error(`${a} needs a value`);
      return argv[++i];
    };
    if (a === "--room") o.room = next();
    else if (a === "--pages") o.pages = Number(next());
    else if (a === "--server") o.server = next();
    else if (a === "--expect") o.expect = Number(next());
    else if (a === "--timeout") o.timeout = Number(next());
    else if (a === "--hold") o.hold = Number(next());
    else if (a === "--screenshot") o.screenshot = next();
    else if (!o.url && !a.startsWith("--")) o.url = a;
    else throw new Error(`bad argument: ${a}`);
  }
  if (!o.url) throw new Error("missing URL");
  if (!(o.pages >= 1)) throw new Error("--pages must be at least 1");
  o.expect ??= Math.max(1, o.pages - 1);
  return o;
}

// Until @page has tiles for at least @n peers that all decode; returns the
// snapshot.
async function waitForAtLeast(page, n, timeoutMs) {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const ids = (await tiles(page)).map((t) => t.peer);
    if (ids.length >= n) {
      try {
        return await waitForMesh(page, ids, Math.max(1000, deadline - Date.now()));
      } catch (e) {
        if (Date.now() >= deadline) throw e;
      }
    } else if (Date.now() >= deadline) {
      throw new Error(`only ${ids.length} of ${n} peers after ${timeoutMs} ms`);
    }
    await sleep(250);
  }
}

async function main() {
  let o;
  try {
    o = parseArgs(process.argv.slice(2));
  } catch (e) {
    console.error(
      `${e.message}\nusage: rooms-page.mjs URL [--room R] [--pages N] [--server ORIGIN] [--expect N] [--timeout MS] [--hold MS] [--screenshot PREFIX]`,
    );
    return 2;
  }
  const browser = await launch();
  const pages = [];
  try {
    for (let i = 0; i < o.pages; i++) pages.push(await openRoomsPage(browser, o.url, { room: o.room, server: o.server }));
    const snaps = await Promise.all(pages.map((p) => waitForAtLeast(p, o.expect, o.timeout)));
    console.log(JSON.stringify({ ok: true, pages: snaps }));
    for (let left = o.hold; left > 0; left -= 1000) {
      await sleep(Math.min(1000, left));
      console.log(JSON.stringify({ pages: await Promise.all(pages.map(snapshot)) }));
    }
    return 0;
  } catch (e) {
    const snaps = await Promise.all(pages.map((p) => snapshot(p).catch((err) => err.message)));
    console.log(JSON.stringify({ ok: false, error: e.message.split("\n")[0], pages: snaps }));
    return 1;
  } finally {
    if (o.screenshot)
      for (const [i, p] of pages.entries()) await p.screenshot({ path: `${o.screenshot}${i}.png` }).catch(() => {});
    await browser.close();
  }
}

if (process.argv[1] && fileURLToPath(import.meta.url) === path.resolve(process.argv[1])) {
  process.exitCode = await main();
}
