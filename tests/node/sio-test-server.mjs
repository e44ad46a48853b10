#!/usr/bin/env node
// A real socket.io 4.x server (from npm) for testing the C Socket.IO client.
//
// Usage: node tests/node/sio-test-server.mjs [PORT]
//   PORT 0 (default) picks a free port. The first stdout line is
//   "LISTENING <port>" once the server accepts connections; nothing else goes
//   to stdout, so a test can read that one line and go. Debug lines (one per
//   event) go to stderr.
// Env: SIO_PING_INTERVAL, SIO_PING_TIMEOUT (ms; defaults 25000 / 20000, the
//   socket.io defaults) so heartbeat handling can be tested quickly.
//
// Behaviour, on the main namespace "/":
//   on connect        emit "welcome" {id, auth}
//   "echo" ...args    emit "echo" ...args back
//   "ack-me" ...args  call the ack with ...args
//   "broadcast" ...a  socket.broadcast.emit("broadcast", ...a)
//   "ask"             emit "question" {q:42} with an ack; the ack's answer
//                     is re-emitted as "answer-was" [answer args]
// "/custom"  emits "welcome" too (and answers "echo" like "/")
// "/private" refuses the connection with "not authorized" unless
//            auth.token === "secret", then behaves like "/custom"

import { createServer } from "node:http";
import { Server } from "socket.io";

const port = Number(process.argv[2] ?? 0);
const envMs = (name, dflt) => {
  const v = process.env[name];
  return v === undefined || v === "" ? dflt : Number(v);
};

const log = (...parts) => console.error(`[sio-test-server] ${parts.join(" ")}`);
const show = (v) => {
  try {
    return JSON.stringify(v);
  } catch {
    return String(v);
  }
};

const httpServer = createServer();
const io = new Server(httpServer, {
  path: "/socket.io/",
  pingInterval: envMs("SIO_PING_INTERVAL", 25000),
  pingTimeout: envMs("SIO_PING_TIMEOUT", 20000),
  cors: { origin: "*" },
});

// Behaviour shared by every namespace; `full` adds the main-namespace extras.
function wire(socket, full) {
  const nsp = socket.nsp.name;
  log(`connect ${nsp} ${socket.id} transport=${socket.conn.transport.name} auth=${show(socket.handshake.auth)}`);
  socket.conn.on("upgrade", (t) => log(`upgrade ${nsp} ${socket.id} -> ${t.name}`));
  socket.onAny((event, ...args) => {
    const hasAck = typeof args[args.length - 1] === "function";
    const shown = hasAck ? args.slice(0, -1) : args;
    log(`event ${nsp} ${socket.id} ${event} ${show(shown)}${hasAck ? " (ack)" : ""}`);
  });
  socket.on("disconnect", (reason) => log(`disconnect ${nsp} ${socket.id} ${reason}`));

  socket.emit("welcome", { id: socket.id, auth: socket.handshake.auth });

  socket.on("echo", (...args) => {
    // An ack function, if the client asked for one, is not data: drop it.
    if (typeof args[args.length - 1] === "function") args.pop();
    socket.emit("echo", ...args);
  });

  if (!full) return;

  socket.on("ack-me", (...args) => {
    const ack = args.pop();
    if (typeof ack === "function") ack(...args);
    else log(`ack-me without ack from ${socket.id}`);
  });

  socket.on("broadcast", (...args) => {
    if (typeof args[args.length - 1] === "function") args.pop();
    socket.broadcast.emit("broadcast", ...args);
  });

  socket.on("ask", () => {
    socket.emit("question", { q: 42 }, (...answer) => {
      log(`answer ${socket.id} ${show(answer)}`);
      socket.emit("answer-was", answer);
    });
  });
}

io.on("connection", (socket) => wire(socket, true));
io.of("/custom").on("connection", (socket) => wire(socket, false));

const priv = io.of("/private");
priv.use((socket, next) => {
  if (socket.handshake.auth?.token === "secret") next();
  else {
    log(`refuse /private auth=${show(socket.handshake.auth)}`);
    next(new Error("not authorized"));
  }
});
priv.on("connection", (socket) => wire(socket, false));

httpServer.listen(port, () => {
  // The one stdout line: tests wait for it.
  process.stdout.write(`LISTENING ${httpServer.address().port}\n`);
  log(`pingInterval=${io.engine.opts.pingInterval} pingTimeout=${io.engine.opts.pingTimeout}`);
});

for (const sig of ["SIGINT", "SIGTERM"]) {
  process.on(sig, () => {
    log(`${sig}, exiting`);
    io.close();
    // Do not wait for clients to go away: a test that sends SIGTERM wants us gone.
    process.exit(0);
  });
}
