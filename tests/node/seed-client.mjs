#!/usr/bin/env node
// A peer of the seed's signalling protocol, built on the official
// socket.io-client: prints what it receives and can send one event.
//
// Usage: node tests/node/seed-client.mjs URL [--emit NAME JSON]... [--exit-after MS]
//   URL           e.g. http://127.0.0.1:4000 (the seed server)
//   --emit N J    once connected, emit event N with payload JSON.parse(J);
//                 may be repeated, sent in order
//   --exit-after  disconnect and exit 0 after MS ms (default: run until killed)
//
// stdout: one JSON line per event:
//   {"event":"connect","id":"..."}
//   {"event":"offer"|"answer"|"candidate","data":...}
//   {"event":"emitted","name":"...","data":...}
//   {"event":"disconnect","reason":"..."}
// Other events (not part of the seed protocol) are printed as well, with
// "other":true, so nothing the server sends goes unseen.

import { io } from "socket.io-client";

function usage(msg) {
  console.error(`${msg}\nusage: seed-client.mjs URL [--emit NAME JSON]... [--exit-after MS]`);
  process.exit(2);
}

const args = process.argv.slice(2);
let url;
const emits = [];
let exitAfter;
for (let i = 0; i < args.length; i++) {
  const a = args[i];
  if (a === "--emit") {
    if (i + 2 >= args.length) usage("--emit needs NAME and JSON");
    let data;
    try {
      data = JSON.parse(args[i + 2]);
    } catch (e) {
      usage(`--emit ${args[i + 1]}: bad JSON: ${e.message}`);
    }
    emits.push([args[i + 1], data]);
    i += 2;
  } else if (a === "--exit-after") {
    exitAfter = Number(args[++i]);
  } else if (!url && !a.startsWith("--")) {
    url = a;
  } else usage(`bad argument: ${a}`);
}
if (!url) usage("missing URL");

const out = (obj) => process.stdout.write(JSON.stringify(obj) + "\n");
const SEED_EVENTS = new Set(["offer", "answer", "candidate"]);

const socket = io(url, { reconnection: false });

socket.on("connect", () => {
  out({ event: "connect", id: socket.id });
  for (const [name, data] of emits) {
    socket.emit(name, data);
    out({ event: "emitted", name, data });
  }
});
socket.on("connect_error", (err) => {
  console.error(`connect_error: ${err.message}`);
  process.exit(1);
});
socket.on("disconnect", (reason) => out({ event: "disconnect", reason }));
socket.onAny((event, ...data) => {
  const payload = data.length === 1 ? data[0] : data;
  if (SEED_EVENTS.has(event)) out({ event, data: payload });
  else out({ event, data: payload, other: true });
});

if (exitAfter !== undefined) {
  setTimeout(() => {
    socket.disconnect();
    process.exit(0);
  }, exitAfter);
}
for (const sig of ["SIGINT", "SIGTERM"]) {
  process.on(sig, () => {
    socket.disconnect();
    process.exit(0);
  });
}
