// The seed's signalling server grown by mesh rooms: the Node reference for
// gst-mesh-server's rooms (docs/rooms.md). Same events, same payloads, same
// errors as the C server.
//
//   node examples/rooms-server/server.mjs [PORT]      (or PORT=4000; 0: any)
//
// socket.io comes from this directory's node_modules (`npm install
// socket.io@4` here) or, in a gst-mesh checkout, from tests/node_modules.

import { createServer } from "node:http";
import { createRequire } from "node:module";
import path from "node:path";
import { fileURLToPath } from "node:url";

const here = path.dirname(fileURLToPath(import.meta.url));
const require = createRequire(import.meta.url);
const { Server } = require(
  require.resolve("socket.io", { paths: [here, path.join(here, "..", "..", "tests")] }),
);

const MAX_ROOM_NAME_BYTES = 64;
const NO_SUCH_PEER = "no such peer in your room";

const port = Number(process.argv[2] ?? process.env.PORT ?? 4000);

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
const io = new Server(http, { cors: { origin: "*" } });

// Mesh rooms: name → Set of sockets in join order (the order of a join
// ack's peers). Kept apart from Socket.IO's own rooms, where every socket
// is also the room named by its id: joining a room named like another
// socket's id must not put you in a room with it.
const rooms = new Map();

const isObject = (v) => typeof v === "object" && v !== null && !Array.isArray(v) && !Buffer.isBuffer(v);

// The payload with "from" set to the sender's id; a "from" the sender put
// there is overwritten in place, so ids cannot be spoofed.
const withFrom = (data, id) => ({ ...data, from: id });

function roomEmit(room, except, event, payload) {
  for (const s of rooms.get(room) ?? []) if (s !== except) s.emit(event, payload);
}

function leaveRoom(socket) {
  const room = socket.data.room;
  if (room === undefined) return;
  delete socket.data.room;
  const members = rooms.get(room);
  if (!members) return;
  members.delete(socket);
  if (members.size === 0) rooms.delete(room);
  roomEmit(room, socket, "peer-left", { id: socket.id, room });
}

function roomError(room) {
  if (typeof room !== "string") return '"room" must be a string';
  if (room.length === 0) return '"room" must not be empty';
  if (Buffer.byteLength(room, "utf8") > MAX_ROOM_NAME_BYTES) return '"room" must be at most 64 bytes';
  return null;
}

io.on("connection", (socket) => {
  console.log(`A user connected: ${socket.id}`);

  for (const event of ["offer", "answer", "candidate"]) {
    socket.on(event, (data) => {
      console.log(`Received ${event} from: ${socket.id}`);
      if (isObject(data) && Object.hasOwn(data, "to")) {
        // Routed: to that one socket, only if it is in the sender's room.
        const to = data.to;
        let message = null;
        let target;
        if (typeof to !== "string") {
          message = '"to" must be a socket id (a string)';
        } else {
          target = io.of("/").sockets.get(to);
          if (socket.data.room === undefined || !target || target === socket || target.data.room !== socket.data.room)
            message = NO_SUCH_PEER;
        }
        if (message) socket.emit("error", { event, to, message });
        else target.emit(event, withFrom(data, socket.id));
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
    const room = isObject(args[0]) ? args[0].room : undefined;
    const error = roomError(room);
    if (error) return ack({ error });
    if (socket.data.room !== room) {
      leaveRoom(socket);
      if (!rooms.has(room)) rooms.set(room, new Set());
      rooms.get(room).add(socket);
      socket.data.room = room;
      roomEmit(room, socket, "peer-joined", { id: socket.id, room });
    }
    const peers = [...rooms.get(room)].filter((s) => s !== socket).map((s) => s.id);
    ack({ id: socket.id, room, peers });
  });

  socket.on("leave", (...args) => {
    const ack = args.find((a) => typeof a === "function");
    const reply = { id: socket.id, room: socket.data.room ?? null };
    leaveRoom(socket);
    if (ack) ack(reply);
  });

  socket.on("disconnect", () => {
    leaveRoom(socket);
    console.log(`User disconnected: ${socket.id}`);
  });
});

http.listen(port, () => {
  console.log(`Listening on http://localhost:${http.address().port}`);
});

for (const sig of ["SIGINT", "SIGTERM"])
  process.on(sig, () => {
    io.close();
    http.close(() => process.exit(0));
    setTimeout(() => process.exit(0), 1000).unref();
  });
