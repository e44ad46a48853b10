// Tests and benchmarks that open peer connections run inside the private
// network namespace of tools/netns-run. A script started outside it calls
// runInNetns() first: it re-runs the very same command (node, its flags,
// the script and its arguments) inside the namespace, passes its output
// and exit code through, and never returns. Inside, it returns at once.
import { spawn } from "node:child_process";
import path from "node:path";
import { fileURLToPath } from "node:url";

const ROOT = path.resolve(path.dirname(fileURLToPath(import.meta.url)), "..", "..");

export async function runInNetns() {
  if (process.env.GST_MESH_NETNS === "1") return;
  const child = spawn(
    path.join(ROOT, "tools", "netns-run"),
    [process.execPath, ...process.execArgv, ...process.argv.slice(1)],
    { stdio: "inherit" },
  );
  const code = await new Promise((r) => child.on("exit", (c, s) => r(c ?? (s ? 1 : 0))));
  process.exit(code);
}
