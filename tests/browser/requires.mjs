// gst-mesh tests: what a test file needs on this machine.
//
// skipUnlessPresent([[path, what], ...]) gives node:test's `skip` value:
// false when every path exists, otherwise "missing WHAT, WHAT" naming
// each missing thing once (several paths may come from one install step).

import { existsSync } from "node:fs";

export function skipUnlessPresent(requirements) {
  const missing = requirements.filter(([p]) => !existsSync(p)).map(([, what]) => what);
  return missing.length ? `missing ${[...new Set(missing)].join(", ")}` : false;
}
