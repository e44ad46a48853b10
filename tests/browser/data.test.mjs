// The data channel between Chromium pages of the rooms page
// (examples/rooms-page) and meshsignal pipelines (gst-launch-1.0 -m) in one
// room of gst-mesh-server (issue 13):
//  - a page's chat line reaches the other page and the pipeline (its
//    mesh-data-text message); the pipeline's send-data... is covered by
//    tests/check/datachannel.c, its data_sink below;
//  - a page's file reaches the other page whole (same SHA-256) and the
//    pipeline's `data_src ! filesink` byte for byte (the header is text,
//    so only the bytes reach data_src);
//  - a pipeline's `filesrc ! data_sink` reaches a page whole, shown as a
//    download of what came;
//  - a page that sends bad frames by hand: the pipeline warns, names the
//    peer and the channel, and takes the next message.
//
// Run:  node --test tests/browser/data.test.mjs   (re-runs itself in tools/netns-run)
// Env:  GST_MESH_BUILD_DIR, GST_PLUGIN_PATH, GST_MESH_TEST_SCALE (as the other browser tests).

import { createHash, randomBytes } from "node:crypto";
import { existsSync, mkdtempSync, readFileSync, rmSync, statSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { test } from "node:test";
import { skipUnlessPresent } from "./requires.mjs";
import assert from "node:assert/strict";
import path from "node:path";
import { fileURLToPath } from "node:url";
import { ms } from "./scale.mjs";

const HERE = path.dirname(fileURLToPath(import.meta.url));
const ROOT = path.resolve(HERE, "..", "..");

await (await import("./netns.mjs")).runInNetns();

const R = await import("./rooms-page.mjs");
const G = await import("./mesh-pipeline.mjs");

const PLUGIN = path.join(process.env.GST_PLUGIN_PATH ?? path.join(G.BUILD_DIR, "plugins"));
const SKIP = skipUnlessPresent([
  ["/usr/bin/chromium", "Chromium (tools/setup.sh)"],
  [path.join(ROOT, "tests", "node_modules", "playwright-core"), "tests/node_modules (tools/setup.sh)"],
  [R.meshServerBinary(), "gst-mesh-server (ninja -C build)"],
  [PLUGIN, "the plugin (ninja -C build)"],
]);

const OPEN_TIMEOUT = ms(45000);
const TRANSFER_TIMEOUT = ms(60000);

const sha256 = (b) => createHash("sha256").update(b).digest("hex");

/** A pipeline in @room with only data pads: @rest uses meshsignal "m". */
function dataPipeline(server, room, name, rest) {
  return G.startRoomPipeline({
    name,
    program: "gst-launch",
    description: `meshsignal name=m server-url=${server.url} room=${room} ${rest}`,
  });
}

/** The pipeline's messages named @name with @field = @value. */
const messages = (p, name, field, value) =>
  p.events.filter((e) => e.type === "message" && e.name === name && (field === undefined || e.fields[field] === value));

/** Until the page has an open data channel to each of @ids. */
function pageChannelsOpen(page, ids, what) {
  return R.waitFor(
    page,
    (want) => want.every((id) => window.mesh.peers[id]?.data === "open"),
    ids,
    OPEN_TIMEOUT,
    what,
  );
}

async function report(t, pages, pipes) {
  for (const [name, page] of Object.entries(pages)) {
    if (page.isClosed()) continue;
    const st = await R.meshState(page).catch(() => null);
    t.diagnostic(`${name}: ${JSON.stringify({ id: st?.id, peers: st?.peers, chat: st?.chat, files: st?.files, dataErrors: st?.dataErrors })}`);
    t.diagnostic(`${name} log: ${(st?.log ?? []).slice(-20).join(" | ")}`);
  }
  for (const p of pipes) t.diagnostic(`${p.name}: ${p.describe()}\n${p.output().slice(-3000)}`);
}

/**
 * gst-mesh-server and Chromium for @body(f, t), where f = {dir (a scratch
 * directory), server, browser, pages: {}, pipes: []}; what the pages and
 * pipelines saw is reported when it fails, and everything is stopped.
 */
async function withRoom(t, body) {
  const f = { dir: mkdtempSync(path.join(tmpdir(), "meshdata-")), pages: {}, pipes: [] };
  f.server = await R.startMeshServer();
  f.browser = await R.launch();
  try {
    await body(f);
  } catch (e) {
    await report(t, f.pages, f.pipes);
    throw e;
  } finally {
    for (const p of f.pipes) if (p.alive()) await p.stop();
    await f.browser.close();
    await f.server.stop();
    rmSync(f.dir, { recursive: true, force: true });
  }
}

test("pages and a pipeline chat and share files over gst-mesh-data", { skip: SKIP, timeout: ms(240000) }, (t) =>
  withRoom(t, async ({ dir, server, browser, pages, pipes }) => {
    const out = path.join(dir, "from-page.bin");
    pages.a = await R.openRoomsPage(browser, server.pageUrl, { room: "files" });
    pages.b = await R.openRoomsPage(browser, server.pageUrl, { room: "files" });
    const pipe = dataPipeline(server, "files", "gst", `m.data_src ! filesink location=${out} async=false buffer-mode=unbuffered`);
    pipes.push(pipe);
    const ids = {
      a: await R.meshId(pages.a),
      b: await R.meshId(pages.b),
      gst: await pipe.waitForId(OPEN_TIMEOUT),
    };
    await pageChannelsOpen(pages.a, [ids.b, ids.gst], "page a: data channels to b and the pipeline");
    await pageChannelsOpen(pages.b, [ids.a, ids.gst], "page b: data channels to a and the pipeline");
    await pipe.waitFor(() => messages(pipe, "mesh-data-channel", "state", "open").length >= 2, OPEN_TIMEOUT, "the pipeline's two channels");

    // chat: a text message to everyone
    assert.equal(await pages.a.evaluate(() => window.meshControl.sendChat("hello, room ✓")), 2);
    await R.waitFor(pages.b, (from) => window.mesh.chat.some((c) => c.from === from && c.text === "hello, room ✓"), ids.a, TRANSFER_TIMEOUT, "page b got the chat line");
    await pipe.waitFor(() => messages(pipe, "mesh-data-text").some((e) => e.fields["peer-id"] === ids.a && e.fields.text === "hello, room ✓"), TRANSFER_TIMEOUT, "the pipeline got the chat line");

    // a file of 700 kB: 11 binary messages of 64 KiB, 44 SCTP chunks each way
    const file = randomBytes(700 * 1000);
    const want = sha256(file);
    assert.equal(await pages.a.evaluate((b64) => window.meshControl.sendFile("photo.bin", Uint8Array.from(atob(b64), (c) => c.charCodeAt(0))), file.toString("base64")), 2);
    const got = await R.waitFor(
      pages.b,
      (from) => window.mesh.files.find((f) => f.from === from && f.done && f.sha256),
      ids.a,
      TRANSFER_TIMEOUT,
      "page b has the whole file",
    );
    assert.equal(got.name, "photo.bin");
    assert.equal(got.size, file.length);
    assert.equal(got.sha256, want, "page b's copy differs");
    await pipe.waitFor(() => existsSync(out) && statSync(out).size >= file.length, TRANSFER_TIMEOUT, "the pipeline's filesink has the file");
    await pipe.stop();
    const copy = readFileSync(out);
    assert.equal(copy.length, file.length);
    assert.equal(sha256(copy), want, "the pipeline's copy differs");
    // page a saw both transfers through
    const sent = await pages.a.evaluate(() => window.mesh.files.filter((f) => f.from === window.mesh.id && f.done).length);
    assert.equal(sent, 2);
    assert.deepEqual(await pages.b.evaluate(() => window.mesh.dataErrors), []);
  }));

test("a pipeline's filesrc ! data_sink reaches a page; bad frames from a page are warnings", { skip: SKIP, timeout: ms(240000) }, (t) =>
  withRoom(t, async ({ dir, server, browser, pages, pipes }) => {
    const input = path.join(dir, "to-page.bin");
    const bytes = randomBytes(500 * 1000);
    writeFileSync(input, bytes);
    pages.a = await R.openRoomsPage(browser, server.pageUrl, { room: "stream" });
    const aId = await R.meshId(pages.a);
    const pipe = dataPipeline(server, "stream", "gst", `filesrc location=${input} ! m.data_sink m.data_src ! fakesink async=false`);
    pipes.push(pipe);
    const gstId = await pipe.waitForId(OPEN_TIMEOUT);
    await pageChannelsOpen(pages.a, [gstId], "page a: data channel to the pipeline");
    const got = await R.waitFor(
      pages.a,
      ([from, size]) => window.mesh.files.find((f) => f.from === from && f.bytes === size && f.sha256),
      [gstId, bytes.length],
      TRANSFER_TIMEOUT,
      "page a has the pipeline's bytes",
    );
    assert.equal(got.size, null, "a stream has no size");
    assert.equal(got.name, `data-from-${gstId}.bin`);
    // the hash may be of an earlier moment: wait for the one of all bytes
    await R.waitFor(pages.a, ([from, h]) => window.mesh.files.some((f) => f.from === from && f.sha256 === h), [gstId, sha256(bytes)], TRANSFER_TIMEOUT, "page a's copy is the pipeline's file");

    // bad frames by hand on the page's channel, then a good one
    await pages.a.evaluate((id) => {
      window.meshControl.sendRaw(id, [0x40, 0x78]); // unknown flags
      window.meshControl.sendRaw(id, [0x03, 0xff]); // text that is not UTF-8
      window.meshControl.sendRaw(id, [0x01, 0x6f, 0x6b]); // "ok"
    }, gstId);
    await pipe.waitFor(
      () => pipe.events.filter((e) => e.type === "warning" && /Dropped a bad message from/.test(e.text)).length >= 2,
      TRANSFER_TIMEOUT,
      "two warnings for the bad frames",
    );
    const warnings = pipe.events.filter((e) => e.type === "warning").map((e) => e.text);
    assert.ok(
      warnings.some((w) => w.includes(aId) && w.includes("gst-mesh-data")),
      `a warning names the page and the channel: ${warnings.join(" | ")}`,
    );
    assert.ok(pipe.alive(), "the pipeline goes on");
  }));
