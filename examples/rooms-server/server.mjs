// The seed's signalling server grown by mesh rooms: the Node reference for
// gst-mesh-server's rooms and limits (docs/protocol.md sections 4 and 5).
// Same events, same payloads, same errors, same options as the C server.
//
//   node examples/rooms-server/server.mjs [PORT] [OPTIONS]   (or PORT=4000; 0: any)
//
//   --allowed-origins=ORIGIN   repeatable; "*" (default) for any. Otherwise
//                              requests with another Origin get 403.
//   --auth-token=TOKEN         repeatable: clients must connect with
//                              auth {token: TOKEN} (any one of them)
//   --auth-file=FILE           tokens, one per line ('#': comment line)
//   --max-room-peers=N         most members of a room (default 0: no limit)
//   --max-event-rate=N         events/s per client, bursts of N (default
//                              200; 0: no limit)
//   --redis=redis://HOST:PORT  join the cluster on that Redis with
//                              @socket.io/redis-adapter (docs/protocol.md
//                              section 9); --redis-key=KEY its key
//
// socket.io comes from this directory's node_modules (`npm install
// socket.io@4` here) or, in a gst-mesh checkout, from tests/node_modules.

import { createHash, timingSafeEqual } from "node:crypto";
import { readFileSync } from "node:fs";
import { createServer, ServerResponse } from "node:http";
import { createRequire } from "node:module";
import path from "node:path";
import { fileURLToPath } from "node:url";
import { parseArgs } from "node:util";

const here = path.dirname(fileURLToPath(import.meta.url));
const require = createRequire(import.meta.url);
const { Server } = require(
  require.resolve("socket.io", { paths: [here, path.join(here, "..", "..", "tests")] }),
);

const MAX_ROOM_NAME_BYTES = 64;
const MAX_UID_BYTES = 64;
const NO_SUCH_PEER = "no such peer in your room";
// A client over FLOOD_FACTOR × max-event-rate for FLOOD_SECONDS whole
// seconds in a row is disconnected.
const FLOOD_FACTOR = 10;
const FLOOD_SECONDS = 5;

function usage(message) {
  console.error(`${message}\nusage: server.mjs [PORT] [--allowed-origins=O]... [--auth-token=T]... [--auth-file=F] [--max-room-peers=N] [--max-event-rate=N] [--redis=URL [--redis-key=KEY]]`);
  process.exit(2);
}

let opts;
try {
  opts = parseArgs({
    allowPositionals: true,
    options: {
      "allowed-origins": { type: "string", multiple: true },
      "auth-token": { type: "string", multiple: true },
      "auth-file": { type: "string" },
      "max-room-peers": { type: "string" },
      "max-event-rate": { type: "string" },
      redis: { type: "string" },
      "redis-key": { type: "string" },
    },
  });
} catch (e) {
  usage(e.message);
}
const count = (name, def) => {
  const v = opts.values[name];
  if (v === undefined) return def;
  if (!/^\d+$/.test(v)) usage(`--${name} must be 0 (no limit) or more`);
  return Number(v);
};

const port = Number(opts.positionals[0] ?? process.env.PORT ?? 4000);
const allowedOrigins = opts.values["allowed-origins"] ?? ["*"];
const maxRoomPeers = count("max-room-peers", 0);
const maxEventRate = count("max-event-rate", 200);
const tokens = [...(opts.values["auth-token"] ?? [])];
if (tokens.some((t) => t === "")) usage("--auth-token must not be empty");
if (opts.values["auth-file"] !== undefined) {
  const file = opts.values["auth-file"];
  let text;
  try {
    text = readFileSync(file, "utf8");
  } catch (e) {
    usage(`--auth-file: ${e.message}`);
  }
  const fromFile = text.split("\n").map((l) => l.trim()).filter((l) => l && !l.startsWith("#"));
  if (fromFile.length === 0) usage(`--auth-file: ${file} holds no token`);
  tokens.push(...fromFile);
}

const http = createServer((req, res) => {
  // What the seed's express app answers.
  if (req.method === "GET" && req.url === "/") {
    res.writeHead(200, { "Content-Type": "text/html; charset=utf-8" });
    res.end("WebRTC Example");
  } else {
    res.writeHead(404, { "Content-Type": "text/plain; charset=utf-8" });
    res.end("Not Found\n");
  }
});
const anyOrigin = allowedOrigins.includes("*");
const io = new Server(http, { cors: { origin: anyOrigin ? "*" : allowedOrigins } });

// A cluster: Socket.IO's own Redis adapter, as any Node deployment uses it.
const clustered = opts.values.redis !== undefined;
if (clustered) {
  const from = (name) => require(require.resolve(name, { paths: [here, path.join(here, "..", "..", "tests")] }));
  const { createAdapter } = from("@socket.io/redis-adapter");
  const { createClient } = from("redis");
  const pub = createClient({ url: opts.values.redis });
  const sub = pub.duplicate();
  for (const c of [pub, sub]) c.on("error", (e) => console.error(`Redis: ${e.message}`));
  await Promise.all([pub.connect(), sub.connect()]);
  io.adapter(createAdapter(pub, sub, { key: opts.values["redis-key"] ?? "socket.io" }));
  // gst-mesh-server's liveness: a heartbeat each second, so that the
  // other nodes notice when this one is gone (docs/protocol.md section 9)
  setInterval(() => io.serverSideEmit("mesh-heartbeat", io.of("/").adapter.uid), 1000).unref();
  console.log(`In the cluster on ${opts.values.redis}`);
}

// Origin allow-list on every Engine.IO request (handshake, poll, POST,
// WebSocket upgrade): CORS only hides answers from a page, and WebSockets
// ignore it. No Origin (non-browser clients) passes.
io.engine.use((req, res, next) => {
  const origin = req.headers.origin;
  // A CORS preflight only asks; CORS answers it (no
  // Access-Control-Allow-Origin for this origin, so the browser stops).
  if (anyOrigin || origin === undefined || allowedOrigins.includes(origin) || req.method === "OPTIONS") return next();
  const body = JSON.stringify({ code: 4, message: "origin not allowed", origin });
  if (res instanceof ServerResponse) {
    res.writeHead(403, { "Content-Type": "application/json", Connection: "close" });
    res.end(body);
  } else {
    // An upgrade: engine.io hands us the raw socket.
    const socket = res.socket;
    socket.on("error", () => {});
    socket.once("finish", () => socket.destroy());
    socket.end(
      "HTTP/1.1 403 Forbidden\r\nConnection: close\r\nContent-Type: application/json\r\n" +
        `Content-Length: ${Buffer.byteLength(body)}\r\n\r\n${body}`,
    );
  }
});

// Auth tokens, compared as SHA-256 digests in constant time.
const digest = (t) => createHash("sha256").update(t, "utf8").digest();
const tokenDigests = tokens.map(digest);
if (tokenDigests.length)
  io.use((socket, next) => {
    const auth = socket.handshake.auth;
    if (typeof auth !== "object" || auth === null || !Object.hasOwn(auth, "token")) return next(new Error("auth token required"));
    const token = auth.token;
    if (typeof token !== "string") return next(new Error("invalid auth token"));
    const d = digest(token);
    let ok = false;
    for (const t of tokenDigests) ok = timingSafeEqual(d, t) || ok;
    next(ok ? undefined : new Error("invalid auth token"));
  });

// Mesh rooms: name → Set of this server's sockets in join order (the order
// of a join ack's peers). Each member is also in the Socket.IO room
// "mesh:NAME", which spans the cluster: no socket id has a colon, so a
// room named like another socket's id cannot take its messages.
const rooms = new Map();
const ioRoom = (room) => `mesh:${room}`;

const isObject = (v) => typeof v === "object" && v !== null && !Array.isArray(v) && !Buffer.isBuffer(v);

// The payload with "from" set to the sender's id; a "from" the sender put
// there is overwritten in place, so ids cannot be spoofed.
const withFrom = (data, id) => ({ ...data, from: id });

// peer-joined / peer-left: uid only when the member gave one.
const peerEvent = (socket, room) => ({ id: socket.id, room, ...(socket.data.uid !== undefined && { uid: socket.data.uid }) });

// To the room's members but @except, on every server of the cluster.
function roomEmit(room, except, event, payload) {
  const to = io.to(ioRoom(room));
  (except ? to.except(except.id) : to).emit(event, payload);
}

// The room's members on the other servers: [{id, uid}] (socket.data says
// which mesh room, as gst-mesh-server's sockets do).
async function remoteMembers(room) {
  if (!clustered) return [];
  const all = await io.in(ioRoom(room)).fetchSockets();
  return all.filter((s) => !io.of("/").sockets.has(s.id) && s.data?.room === room).map((s) => ({ id: s.id, uid: s.data.uid }));
}

// A member that joined on another server with the uid of one of ours:
// ours makes way (and everyone hears peer-left).
io.on("mesh-evict", (req) => {
  if (!isObject(req) || typeof req.room !== "string" || typeof req.uid !== "string") return;
  for (const s of rooms.get(req.room) ?? []) if (s.data.uid === req.uid && s.id !== req.by) leaveRoom(s);
});

function leaveRoom(socket) {
  const room = socket.data.room;
  if (room === undefined) return;
  delete socket.data.room;
  const members = rooms.get(room);
  if (!members) return;
  members.delete(socket);
  socket.leave(ioRoom(room));
  if (members.size === 0) rooms.delete(room);
  // a server going down is not everyone leaving: members keep their peer
  // connections and find each other again after a restart
  if (!stopping) roomEmit(room, socket, "peer-left", peerEvent(socket, room));
}

function roomError(room) {
  if (typeof room !== "string") return '"room" must be a string';
  if (room.length === 0) return '"room" must not be empty';
  if (Buffer.byteLength(room, "utf8") > MAX_ROOM_NAME_BYTES) return '"room" must be at most 64 bytes';
  return null;
}

const uidError = (uid) =>
  typeof uid !== "string" || uid.length === 0 || Buffer.byteLength(uid, "utf8") > MAX_UID_BYTES
    ? '"uid" must be a string of at most 64 bytes'
    : null;

// max-event-rate: a token bucket of maxEventRate events refilled at
// maxEventRate per second, and flood windows of one second.
function rateCheck(r, now) {
  if (now - r.windowStart >= 1000) {
    if (r.windowCount > maxEventRate * FLOOD_FACTOR && now - r.windowStart < 2000) r.floodWindows++;
    else r.floodWindows = 0;
    r.windowStart = now;
    r.windowCount = 0;
  }
  r.windowCount++;
  if (r.floodWindows >= FLOOD_SECONDS) return "flood";
  const elapsed = Math.min(now - r.lastEvent, 1000);
  r.lastEvent = now;
  r.tokens = Math.min(r.tokens + (elapsed * maxEventRate) / 1000, maxEventRate);
  if (r.tokens >= 1) {
    r.tokens -= 1;
    return "pass";
  }
  return "drop";
}

io.on("connection", (socket) => {
  console.log(`A user connected: ${socket.id}`);

  if (maxEventRate > 0) {
    const now = performance.now();
    const r = { tokens: maxEventRate, lastEvent: now, lastError: -Infinity, windowStart: now, windowCount: 0, floodWindows: 0 };
    // Runs for every incoming event before its handler; not calling
    // next() drops it.
    socket.use(([event], next) => {
      const t = performance.now();
      const verdict = rateCheck(r, t);
      if (verdict === "pass") return next();
      if (verdict === "flood") {
        console.log(`${socket.id} sent over ${maxEventRate * FLOOD_FACTOR} events/s for ${FLOOD_SECONDS} s: disconnecting it`);
        socket.emit("error", { event, message: "too many events: disconnected" });
        socket.disconnect(true);
      } else if (t - r.lastError >= 1000) {
        r.lastError = t;
        socket.emit("error", { event, message: "rate limit exceeded" });
      }
    });
  }

  // The seed's three events, and "hangup" (a member that will not take a
  // call, e.g. at its max-peers), relayed by the same rules.
  // A socket's routed messages and joins run one after the other, as they
  // came: with a cluster they wait for the other servers' answers.
  let queue = Promise.resolve();
  const inOrder = (fn) => (queue = queue.then(fn).catch((e) => console.error(e)));

  for (const event of ["offer", "answer", "candidate", "hangup"]) {
    socket.on(event, (data) => {
      console.log(`Received ${event} from: ${socket.id}`);
      if (isObject(data) && Object.hasOwn(data, "to")) {
        // Routed: to that one socket, only if it is in the sender's room
        // (on this server or, in a cluster, on another).
        inOrder(async () => {
          const to = data.to;
          let message = null;
          let target;
          let remote = false;
          if (typeof to !== "string") {
            message = '"to" must be a socket id (a string)';
          } else {
            target = io.of("/").sockets.get(to);
            if (!target && clustered && socket.data.room !== undefined && to !== socket.id)
              remote = (await io.in(to).fetchSockets()).some((s) => s.data?.room === socket.data.room);
            if (!remote && (socket.data.room === undefined || !target || target === socket || target.data.room !== socket.data.room))
              message = NO_SUCH_PEER;
          }
          if (message) socket.emit("error", { event, to, message });
          else if (remote) io.to(to).emit(event, withFrom(data, socket.id));
          else target.emit(event, withFrom(data, socket.id));
        });
        return;
      }
      // The seed's socket.broadcast.emit; "from" added for room members and
      // overwritten whenever the sender wrote one.
      if (isObject(data) && (socket.data.room !== undefined || Object.hasOwn(data, "from")))
        socket.broadcast.emit(event, withFrom(data, socket.id));
      else socket.broadcast.emit(event, data);
    });
  }

  socket.on("join", (...args) => {
    const ack = typeof args.at(-1) === "function" ? args.pop() : () => {};
    const request = isObject(args[0]) ? args[0] : {};
    const { room, uid } = request;
    const error = roomError(room) ?? (Object.hasOwn(request, "uid") ? uidError(uid) : null);
    if (error) return ack({ error });
    inOrder(async () => {
      // the room's members on the other servers of a cluster
      const remote = await remoteMembers(room);
      if (!socket.connected) return;
      if (socket.data.room !== room || socket.data.uid !== uid) {
        const members = rooms.get(room) ?? new Set();
        // The same member on a new connection (it reconnected before we
        // noticed the old one died): the old one makes way, here or on
        // another server.
        const evicted = uid === undefined ? undefined : [...members].find((s) => s !== socket && s.data.uid === uid);
        const evictedRemote = uid === undefined || evicted ? undefined : remote.find((r) => r.uid === uid);
        if (maxRoomPeers > 0) {
          const n = members.size + remote.length - (socket.data.room === room ? 1 : 0) - (evicted || evictedRemote ? 1 : 0);
          if (n >= maxRoomPeers) return ack({ error: "room is full", room, max: maxRoomPeers });
        }
        leaveRoom(socket);
        if (evicted) leaveRoom(evicted);
        if (evictedRemote) {
          io.serverSideEmit("mesh-evict", { room, uid, id: evictedRemote.id, by: socket.id });
          remote.splice(remote.indexOf(evictedRemote), 1);
        }
        if (!rooms.has(room)) rooms.set(room, new Set());
        rooms.get(room).add(socket);
        socket.join(ioRoom(room));
        socket.data.room = room;
        // which node it is on, for the other nodes' liveness checks
        if (clustered) socket.data.node = io.of("/").adapter.uid;
        if (uid === undefined) delete socket.data.uid;
        else socket.data.uid = uid;
        roomEmit(room, socket, "peer-joined", peerEvent(socket, room));
      }
      // In a cluster, ask again now that our peer-joined is out: of two
      // members joining on two servers at once, at least one then finds
      // the other and offers (docs/protocol.md section 9).
      const members = clustered ? await remoteMembers(room) : remote;
      if (!socket.connected || !rooms.get(room)?.has(socket)) return;
      const others = [...rooms.get(room)].filter((s) => s !== socket).map((s) => ({ id: s.id, uid: s.data.uid }));
      others.push(...members);
      const reply = { id: socket.id, room, peers: others.map((s) => s.id) };
      const uids = Object.fromEntries(others.filter((s) => s.uid !== undefined).map((s) => [s.id, s.uid]));
      // Only when somebody gave one: without uids the ack is as before.
      if (Object.keys(uids).length) reply.uids = uids;
      ack(reply);
    });
  });

  socket.on("leave", (...args) => {
    const ack = args.find((a) => typeof a === "function");
    inOrder(() => {
      const reply = { id: socket.id, room: socket.data.room ?? null };
      leaveRoom(socket);
      if (ack) ack(reply);
    });
  });

  socket.on("disconnect", () => {
    leaveRoom(socket);
    console.log(`User disconnected: ${socket.id}`);
  });
});

http.listen(port, () => {
  console.log(`Listening on http://localhost:${http.address().port}`);
});

let stopping = false;
for (const sig of ["SIGINT", "SIGTERM"])
  process.on(sig, () => {
    stopping = true;
    io.close();
    http.close(() => process.exit(0));
    setTimeout(() => process.exit(0), 1000).unref();
  });
