#!/usr/bin/env node
// The Node reference (socket.io 4.x from npm) with the configuration and
// behaviour of sio-test-server.c, so that a suite can be pointed at it with
// GST_MESH_TARGET_URL to check the tests themselves, or to compare timing:
//
//   PORT=3000 node tests/servers/sio-test-server.mjs &
//   GST_MESH_TARGET_URL=http://127.0.0.1:3000 node --test node/server-client.test.mjs
//
// PORT=0 picks a free port; the first stdout line says which, in the same
// words as the C server. PING_INTERVAL, PING_TIMEOUT, CONNECT_TIMEOUT as
// for the C server.

import { createServer } from "node:http";
import { Server } from "socket.io";

const port = Number(process.env.PORT ?? 3000);
const envMs = (name, dflt) => Number(process.env[name] || dflt);
const http = createServer();
const io = new Server(http, {
  pingInterval: envMs("PING_INTERVAL", 300),
  pingTimeout: envMs("PING_TIMEOUT", 200),
  maxHttpBufferSize: 1e6,
  connectTimeout: envMs("CONNECT_TIMEOUT", 1000),
  cors: { origin: "*" },
});

const emitAuth = (socket) => socket.emit("auth", socket.handshake.auth);

io.of("/").on("connection", (socket) => {
  emitAuth(socket);
  socket.on("message", (...args) => socket.emit("message-back", ...args));
  socket.on("message-with-ack", (...args) => {
    const ack = args.pop();
    ack(...args);
  });
  socket.on("disconnect-me", (close) => socket.disconnect(close === true));
  socket.on("ask", (...args) =>
    socket.emit("question", ...args, (...answer) => socket.emit("answer-was", ...answer)),
  );
});
io.of("/custom").on("connection", emitAuth);
io.of("/refused").use((socket, next) => {
  if (socket.handshake.auth?.token === "secret") return next();
  const err = new Error("not authorized");
  err.data = { reason: "missing token" };
  next(err);
});

http.listen(port, () => {
  console.log(`Socket.IO test server on http://localhost:${http.address().port}/socket.io/`);
});
const quit = () => io.close(() => process.exit(0));
process.on("SIGINT", quit);
process.on("SIGTERM", quit);
