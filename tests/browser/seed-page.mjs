#!/usr/bin/env node
// Drive the seed page (tests/seed/public) in Debian's Chromium via
// playwright-core, without touching the page's script.
//
// As a module:
//   const browser = await launch();
//   const page = await openSeedPage(browser, "http://127.0.0.1:PORT/");
//   await clickStart(page); await clickCall(page);
//   await waitForRemoteMedia(page, 30000);
//   console.log(await remoteStats(page), await timing(page));
//
// As a CLI (one browser peer, e.g. against a meshsignal element):
//   node tests/browser/seed-page.mjs URL [--call] [--timeout MS] [--hold MS]
//                                        [--screenshot FILE]
//   Opens URL, clicks Start (and Call with --call), waits for remote video
//   and audio to flow, prints one JSON line {ok, stats, timing}, then with
//   --hold keeps the call up for MS ms printing a stats line each second.
//   Exit 0 on success, 1 on failure or timeout (default 60000 ms).
//
// How it sees inside the page: script.js is a classic script whose top-level
// `let localStream`, `let peerConnection` and `const socket` are global
// lexical bindings. They are not properties of window, but any code running
// in the page's main world (page.evaluate, init scripts) resolves them by
// name, so no change to script.js is needed.

import { chromium } from "playwright-core";
import { resolve } from "node:path";
import { fileURLToPath } from "node:url";

export const CHROMIUM_PATH = "/usr/bin/chromium";

// Fake camera/microphone and auto-accepted permission prompt; nothing that
// would talk to Google services or try QUIC.
export const CHROMIUM_ARGS = [
  "--no-sandbox",
  "--disable-gpu",
  "--disable-quic",
  "--no-first-run",
  "--disable-background-networking",
  "--disable-component-update",
  "--disable-sync",
  "--use-fake-ui-for-media-stream",
  "--use-fake-device-for-media-stream",
];

/** Launch headless Chromium; Playwright gives it a fresh temporary profile. */
export function launch({ executablePath = CHROMIUM_PATH, headless = true } = {}) {
  return chromium.launch({ executablePath, headless, args: CHROMIUM_ARGS });
}

// Runs in the page before script.js. Records Date.now() (the same clock in
// every page on this machine, so pages can be compared) at:
//   callClick   the click on #callButton (capture listener on document, so it
//               runs before script.js's own listener on the button)
//   firstFrame  the first remote video frame presented
//               (requestVideoFrameCallback on #remoteVideo)
//   firstDecoded the first time getStats reports framesDecoded > 0 on the
//               inbound video (polled every 5 ms once peerConnection exists)
function timingHooks() {
  if (window.__meshTiming) return;
  const t = (window.__meshTiming = {
    callClick: null,
    firstFrame: null,
    firstDecoded: null,
  });

  document.addEventListener(
    "click",
    (e) => {
      if (t.callClick === null && e.target?.id === "callButton") t.callClick = Date.now();
    },
    true,
  );

  const armFrameCallback = () => {
    const v = document.getElementById("remoteVideo");
    if (v && "requestVideoFrameCallback" in v)
      v.requestVideoFrameCallback(() => {
        if (t.firstFrame === null) t.firstFrame = Date.now();
      });
  };
  if (document.readyState === "loading")
    document.addEventListener("DOMContentLoaded", armFrameCallback);
  else armFrameCallback();

  let busy = false;
  const poll = setInterval(async () => {
    // `peerConnection` is script.js's top-level let: visible here by name.
    if (busy || typeof peerConnection === "undefined" || !peerConnection) return;
    busy = true;
    try {
      const stats = await peerConnection.getStats();
      stats.forEach((s) => {
        if (s.type === "inbound-rtp" && s.kind === "video" && s.framesDecoded > 0 && t.firstDecoded === null)
          t.firstDecoded = Date.now();
      });
      if (t.firstDecoded !== null) clearInterval(poll);
    } catch {
      // getStats on a closed connection: try again with the next one.
    } finally {
      busy = false;
    }
  }, 5);
}

/**
 * Add the timing hooks to a page. Takes effect at the next navigation (it is
 * an init script); if the page already shows a document, it is installed
 * there right away too (the hook guards against running twice).
 */
export async function installTimingHooks(page) {
  await page.addInitScript(timingHooks);
  if (page.url() !== "about:blank") await page.evaluate(timingHooks);
}

/** The timestamps recorded by the timing hooks (Date.now() ms, or null). */
export function timing(page) {
  return page.evaluate(() => ({ ...(window.__meshTiming ?? {}) }));
}

/**
 * Open the seed page in its own browser context (like a separate browser),
 * with timing hooks installed, and wait until its socket.io client is
 * connected: the seed server only relays to sockets connected at that moment,
 * so an offer sent before the other side is connected is lost.
 */
export async function openSeedPage(browser, url, { connectTimeoutMs = 15000 } = {}) {
  const context = await browser.newContext();
  const page = await context.newPage();
  page.on("console", (m) => {
    if (m.type() === "error" || m.type() === "warning")
      console.error(`[page ${m.type()}] ${m.text()}`);
  });
  page.on("pageerror", (e) => console.error(`[page error] ${e.message}`));
  await installTimingHooks(page);
  await page.goto(url);
  await page.waitForFunction(() => typeof socket !== "undefined" && socket.connected, null, {
    timeout: connectTimeoutMs,
    polling: 50,
  });
  return page;
}

/** Click Start and wait for getUserMedia to have filled localStream. */
export async function clickStart(page, { timeoutMs = 15000 } = {}) {
  await page.click("#startButton");
  await page.waitForFunction(() => typeof localStream !== "undefined" && !!localStream, null, {
    timeout: timeoutMs,
    polling: 20,
  });
}

/** Click Call (needs Start first) and wait for the peer connection to exist. */
export async function clickCall(page, { timeoutMs = 15000 } = {}) {
  await page.click("#callButton");
  await page.waitForFunction(() => typeof peerConnection !== "undefined" && !!peerConnection, null, {
    timeout: timeoutMs,
    polling: 20,
  });
}

/**
 * What the page receives: {videoWidth, videoHeight, framesDecoded,
 * audioPacketsReceived, connectionState}. Counters are 0 and
 * connectionState null before there is a peer connection.
 */
export function remoteStats(page) {
  return page.evaluate(async () => {
    const v = document.getElementById("remoteVideo");
    const out = {
      videoWidth: v.videoWidth,
      videoHeight: v.videoHeight,
      framesDecoded: 0,
      audioPacketsReceived: 0,
      connectionState: null,
    };
    if (typeof peerConnection === "undefined" || !peerConnection) return out;
    out.connectionState = peerConnection.connectionState;
    const stats = await peerConnection.getStats();
    stats.forEach((s) => {
      if (s.type !== "inbound-rtp") return;
      if (s.kind === "video") out.framesDecoded += s.framesDecoded ?? 0;
      if (s.kind === "audio") out.audioPacketsReceived += s.packetsReceived ?? 0;
    });
    return out;
  });
}

/**
 * How long Chromium held each frame of the remote video before it decoded
 * it (getStats jitterBufferDelay over jitterBufferEmittedCount), ms per
 * frame, over @windowMs: about 0 when it shows frames as soon as they are
 * complete (the playout-delay extension's least and most delay 0), its
 * jitter allowance otherwise (7-12 ms on a LAN). {ms, frames}.
 */
export async function videoHoldMs(page, windowMs = 2000) {
  const read = () =>
    page.evaluate(async () => {
      let v = [0, 0];
      if (typeof peerConnection === "undefined" || !peerConnection) return v;
      (await peerConnection.getStats()).forEach((s) => {
        if (s.type === "inbound-rtp" && s.kind === "video") v = [s.jitterBufferDelay ?? 0, s.jitterBufferEmittedCount ?? 0];
      });
      return v;
    });
  const a = await read();
  await new Promise((r) => setTimeout(r, windowMs));
  const b = await read();
  const frames = b[1] - a[1];
  return { ms: frames > 0 ? (1000 * (b[0] - a[0])) / frames : null, frames };
}

/**
 * Poll until remote media flows: videoWidth > 0, and both framesDecoded and
 * audioPacketsReceived have risen since they were first seen non-zero (so a
 * stream that delivered one burst and stalled does not count). Resolves to
 * the last stats; rejects with them in the message on timeout.
 */
export async function waitForRemoteMedia(page, timeoutMs = 30000, { intervalMs = 100 } = {}) {
  const deadline = Date.now() + timeoutMs;
  let first = null;
  let last = null;
  for (;;) {
    last = await remoteStats(page);
    if (last.videoWidth > 0 && last.framesDecoded > 0 && last.audioPacketsReceived > 0) {
      if (!first) first = last;
      else if (last.framesDecoded > first.framesDecoded && last.audioPacketsReceived > first.audioPacketsReceived)
        return last;
    }
    if (Date.now() >= deadline)
      throw new Error(`no remote media after ${timeoutMs} ms; last stats ${JSON.stringify(last)}`);
    await new Promise((r) => setTimeout(r, intervalMs));
  }
}

// ---- CLI ----

function parseArgs(argv) {
  const o = { url: null, call: false, timeout: 60000, hold: 0, screenshot: null };
  for (let i = 0; i < argv.length; i++) {
    const a = argv[i];
    if (a === "--call") o.call = true;
    else if (a === "--timeout") o.timeout = Number(argv[++i]);
    else if (a === "--hold") o.hold = Number(argv[++i]);
    else if (a === "--screenshot") o.screenshot = argv[++i];
    else if (!o.url && !a.startsWith("--")) o.url = a;
    else throw new Error(`bad argument: ${a}`);
  }
  if (!o.url) throw new Error("missing URL");
  return o;
}

async function main() {
  let o;
  try {
    o = parseArgs(process.argv.slice(2));
  } catch (e) {
    console.error(`${e.message}\nusage: seed-page.mjs URL [--call] [--timeout MS] [--hold MS] [--screenshot FILE]`);
    return 2;
  }
  const browser = await launch();
  let page;
  try {
    page = await openSeedPage(browser, o.url);
    await clickStart(page);
    if (o.call) await clickCall(page);
    const stats = await waitForRemoteMedia(page, o.timeout);
    console.log(JSON.stringify({ ok: true, stats, timing: await timing(page) }));
    for (let left = o.hold; left > 0; left -= 1000) {
      await new Promise((r) => setTimeout(r, Math.min(1000, left)));
      console.log(JSON.stringify({ stats: await remoteStats(page) }));
    }
    return 0;
  } catch (e) {
    const stats = page ? await remoteStats(page).catch(() => null) : null;
    console.log(JSON.stringify({ ok: false, error: e.message, stats }));
    return 1;
  } finally {
    if (page && o.screenshot) await page.screenshot({ path: o.screenshot }).catch(() => {});
    await browser.close();
  }
}

if (process.argv[1] && fileURLToPath(import.meta.url) === resolve(process.argv[1])) {
  process.exitCode = await main();
}
