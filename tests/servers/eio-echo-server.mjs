#!/usr/bin/env node
// The Node reference (engine.io from npm) with the configuration of
// eio-echo-server.c: every message back as it came; pingInterval 300 ms,
// pingTimeout 200 ms, maxPayload 1000000, CORS "*". PORT as for the C
// server (default 3000). For tools/official-suites.sh, which runs the
// official suite against both side by side.

import { createServer } from "node:http";
import { Server } from "engine.io";

const port = Number(process.env.PORT ?? 3000);
const http = createServer();
const engine = new Server({ pingInterval: 300, pingTimeout: 200, maxHttpBufferSize: 1e6, cors: { origin: "*" } });
engine.attach(http);
engine.on("connection", (socket) => socket.on("message", (data) => socket.send(data)));
http.listen(port, () => console.log(`Listening on http://localhost:${http.address().port}/engine.io/`));
for (const sig of ["SIGINT", "SIGTERM"]) process.on(sig, () => process.exit(0));
