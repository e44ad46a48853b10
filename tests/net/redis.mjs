// Debian's redis-server for the cluster tests and benchmarks, on a test
// port of 127.0.0.1, nothing saved, started by a test and stopped by it.
//
//   const redis = await startRedis();          // a free port
//   const again = await startRedis(redis.port); // the same port, later
//   redis.url ... await redis.stop();

import { spawn } from "node:child_process";
import { existsSync } from "node:fs";
import net from "node:net";

export const REDIS_SERVER = process.env.GST_MESH_REDIS_SERVER ?? "/usr/bin/redis-server";
export const hasRedis = () => existsSync(REDIS_SERVER);

const sleep = (ms) => new Promise((r) => setTimeout(r, ms));

/** A TCP port of 127.0.0.1 that nothing listens on now. */
export function freePort() {
  return new Promise((resolve, reject) => {
    const s = net.createServer();
    s.once("error", reject);
    s.listen(0, "127.0.0.1", () => {
      const { port } = s.address();
      s.close(() => resolve(port));
    });
  });
}

/** redis-server on @port (a free one by default); resolves once it takes
 * commands to {port, url, output(), stop()}. */
export async function startRedis(port) {
  port ??= await freePort();
  const proc = spawn(REDIS_SERVER, ["--port", String(port), "--bind", "127.0.0.1", "--save", "", "--appendonly", "no"], {
    stdio: ["ignore", "pipe", "pipe"],
  });
  let out = "";
  proc.stdout.on("data", (d) => (out += d));
  proc.stderr.on("data", (d) => (out += d));
  const exited = new Promise((r) => proc.on("exit", (code, sig) => r({ code, sig })));
  for (let i = 0; i < 100; i++) {
    if (/Ready to accept connections/.test(out)) break;
    if (proc.exitCode !== null) throw new Error(`redis-server exited:\n${out}`);
    await sleep(50);
  }
  return {
    port,
    url: `redis://127.0.0.1:${port}`,
    output: () => out,
    async stop() {
      if (proc.exitCode === null && proc.signalCode === null) proc.kill("SIGTERM");
      return exited;
    },
  };
}
