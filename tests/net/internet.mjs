// The simulated Internet of tests/net/internet, for Node tests and
// benchmarks: re-run inside it, reconfigure it, and start peers (pipelines
// and Chromium) on a home's host.
//
//   await runInInternet({ homes: 3, turnSecret: "s" });  // first line
//   setNat("h1", "symmetric");
//   const gst = startGstPeer({ prefix: inHome("h1"), server: seedUrl(), ... });
//   const browser = await launchChromiumIn("h2", [seedUrl()]);
//   await useIceServers(page, [{ urls: "stun:203.0.113.1:3478" }]);
//   await pageIcePath(page)  // {localType, remoteType, relayProtocol, ...}
import { spawn, spawnSync } from "node:child_process";
import { writeFileSync, chmodSync, mkdirSync, existsSync } from "node:fs";
import path from "node:path";
import { fileURLToPath } from "node:url";
import { chromium } from "playwright-core";
import { CHROMIUM_ARGS, CHROMIUM_PATH } from "../browser/seed-page.mjs";

const HERE = path.dirname(fileURLToPath(import.meta.url));
export const TOOL = path.join(HERE, "internet");
export const PUBLIC = "203.0.113.1";
export const TURN_USER = "u";
export const TURN_PASS = "p";

/**
 * Inside the simulated Internet, return at once; outside, run this very
 * script (node, its flags and arguments) inside a new one and exit with
 * its code. Options are the tool's: homes, nat ("cone" or "cone,symmetric"),
 * turnSecret (a second coturn on 3479/5350 taking REST credentials).
 */
export async function runInInternet({ homes = 3, nat = "cone", turnSecret = null } = {}) {
  if (process.env.MESH_NET === "1") return;
  const args = ["run", "--homes", String(homes), "--nat", nat];
  if (turnSecret) args.push("--turn-secret", turnSecret);
  args.push("--", process.execPath, ...process.execArgv, ...process.argv.slice(1));
  const child = spawn(TOOL, args, { stdio: "inherit" });
  const code = await new Promise((r) => child.on("exit", (c, s) => r(c ?? (s ? 1 : 0))));
  process.exit(code);
}

/** Run a tool command (nat, udp, cut, rebind, readdr); throws with its
 * stderr when it fails. */
export function net(...args) {
  const r = spawnSync(TOOL, args, { encoding: "utf8" });
  if (r.status !== 0) throw new Error(`internet ${args.join(" ")}: ${r.stderr || r.status}`);
  return r.stdout;
}

export const setNat = (home, kind) => net("nat", home, kind);
export const setUdp = (home, on) => net("udp", home, on ? "on" : "off");
export const setCut = (home, on) => net("cut", home, on ? "on" : "off");
export const rebind = (home) => net("rebind", home);
export const readdr = (home) => net("readdr", home);

/** The command prefix that runs a program on a home's host. */
export const inHome = (home) => ["ip", "netns", "exec", home];

/**
 * Launch Debian's Chromium on a home's host. @origins: page origins
 * (http://203.0.113.1:PORT) allowed the camera though not localhost.
 * Chromium checks a TURN server's TLS certificate (turns:) as any other:
 * it gets a HOME of its own whose NSS database trusts the test
 * certificate of the tool's coturn (certutil, from libnss3-tools).
 */
export async function launchChromiumIn(home, origins = [], extraArgs = []) {
  const state = process.env.MESH_NET_STATE;
  const wrapper = path.join(state, `chromium-${home}`);
  writeFileSync(wrapper, `#!/bin/sh\nexec ip netns exec ${home} ${CHROMIUM_PATH} "$@"\n`);
  chmodSync(wrapper, 0o755);
  const env = { ...process.env };
  const cert = process.env.MESH_NET_TURN_CERT;
  if (cert) {
    const dir = path.join(state, `home-${home}`);
    const db = path.join(dir, ".pki", "nssdb");
    mkdirSync(db, { recursive: true });
    const certutil = (...a) => {
      const r = spawnSync("certutil", ["-d", `sql:${db}`, ...a], { encoding: "utf8" });
      if (r.status !== 0) throw new Error(`certutil ${a.join(" ")}: ${r.stderr || r.error}`);
    };
    // once per home: a second browser on the same home shares the
    // database (certutil -N on an existing one asks for its password)
    if (!existsSync(path.join(db, "cert9.db"))) {
      certutil("-N", "--empty-password");
      certutil("-A", "-n", "mesh-test-turn", "-t", "CP,,", "-i", cert);
    }
    env.HOME = dir;
  }
  const args = [...CHROMIUM_ARGS];
  if (origins.length) args.push(`--unsafely-treat-insecure-origin-as-secure=${origins.join(",")}`);
  args.push(...extraArgs);
  // a debugging aid: more flags, e.g. "--enable-logging=stderr
  // --vmodule=*/goog_cc/*=1" (its lines show with DEBUG=pw:browser)
  if (process.env.MESH_CHROMIUM_ARGS) args.push(...process.env.MESH_CHROMIUM_ARGS.split(" ").filter(Boolean));
  return chromium.launch({ executablePath: wrapper, headless: true, args, env });
}

/**
 * The seed's page, unchanged, opened by a Chromium on @home's host (one
 * per home, kept in @browsers) from @url, connected to its server and
 * Start pressed. @iceServers replace the page's own (useIceServers);
 * @initScript (a function) runs in the page before its script: the
 * benchmarks' frame counters. @chromiumArgs go to the browser if this
 * opens it (the first page of @home in @browsers).
 */
export async function openSeedPageIn(browsers, home, url, { iceServers = null, initScript = null, chromiumArgs = [] } = {}) {
  browsers[home] ??= await launchChromiumIn(home, [url.replace(/\/$/, "")], chromiumArgs);
  const page = await (await browsers[home].newContext()).newPage();
  if (iceServers) await useIceServers(page, iceServers);
  if (initScript) await page.addInitScript(initScript);
  await page.goto(url);
  await page.waitForFunction(() => typeof socket !== "undefined" && socket.connected, null, { timeout: 15000 });
  const { clickStart } = await import("../browser/seed-page.mjs");
  await clickStart(page);
  return page;
}

/**
 * Give every RTCPeerConnection of the page @iceServers instead of those its
 * script names (the seed page names Google's STUN server, unreachable
 * here), without touching the script: an init script wraps the
 * constructor. Call before page.goto().
 */
export async function useIceServers(page, iceServers, { relayOnly = false } = {}) {
  await page.addInitScript(
    ({ iceServers, relayOnly }) => {
      const Native = window.RTCPeerConnection;
      function Wrapped(config = {}, ...rest) {
        const c = { ...config, iceServers };
        if (relayOnly) c.iceTransportPolicy = "relay";
        return new Native(c, ...rest);
      }
      Wrapped.prototype = Native.prototype;
      Object.setPrototypeOf(Wrapped, Native);
      window.RTCPeerConnection = Wrapped;
    },
    { iceServers, relayOnly },
  );
}

/** The candidate pair the page's peerConnection uses (seed page: a global
 * lexical binding), or null before there is one. */
export function pageIcePath(page, binding = "peerConnection") {
  return page.evaluate(async (binding) => {
    // eslint-disable-next-line no-eval
    const pc = (0, eval)(`typeof ${binding} === "undefined" ? null : ${binding}`);
    if (!pc) return null;
    const stats = await pc.getStats();
    let pairId = null;
    stats.forEach((s) => {
      if (s.type === "transport" && s.selectedCandidatePairId) pairId = s.selectedCandidatePairId;
    });
    if (!pairId)
      stats.forEach((s) => {
        if (s.type === "candidate-pair" && s.nominated && s.state === "succeeded") pairId = s.id;
      });
    const pair = pairId && stats.get(pairId);
    if (!pair) return null;
    const l = stats.get(pair.localCandidateId);
    const r = stats.get(pair.remoteCandidateId);
    return {
      localType: l.candidateType,
      relayProtocol: l.relayProtocol ?? "",
      local: `${l.address}:${l.port}`,
      remoteType: r.candidateType,
      remote: `${r.address}:${r.port}`,
    };
  }, binding);
}
