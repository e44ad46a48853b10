// MessagePack test vectors from notepack.io, the encoder of Socket.IO's
// Redis adapter, for tests/check/msgpack.c: one line per value,
//   enc HEX JSON   notepack.encode(JSON.parse(JSON)) is HEX
//   encx HEX JSON  the same, for integers past 2^64, which notepack wraps
//                  (so HEX does not decode to JSON's value)
//   dec HEX JSON   JSON.stringify(notepack.decode(HEX)) is JSON
// (the second for what notepack reads but JSON cannot say as it is:
// undefined, dates, float 32).
import { createRequire } from "node:module";
const require = createRequire(import.meta.url);
const notepack = require("notepack.io");

const values = [
  "null", "true", "false", "0", "1", "127", "128", "255", "256", "65535",
  "65536", "4294967295", "4294967296", "9007199254740991", "-1", "-32",
  "-33", "-128", "-129", "-32768", "-32769", "-2147483648", "-2147483649",
  "-9007199254740991", "1.5", "-0.25", "1e300", "2.0", "-0.0", "1e20",
  `""`, `"a"`, JSON.stringify("x".repeat(31)), JSON.stringify("x".repeat(32)),
  JSON.stringify("y".repeat(255)), JSON.stringify("y".repeat(256)),
  JSON.stringify("z".repeat(65536)), `"한국어 éè 😀"`,
  "[]", "[1,2,3]", JSON.stringify(Array.from({ length: 15 }, (_, i) => i)),
  JSON.stringify(Array.from({ length: 16 }, (_, i) => i)),
  JSON.stringify(Array.from({ length: 70000 }, () => 1)),
  "{}", `{"a":1}`, `{"b":1,"a":2}`, `{"b":1,"2":2,"10":3,"1":4,"01":5,"-1":6,"4294967294":7,"4294967295":8}`,
  JSON.stringify(Object.fromEntries(Array.from({ length: 16 }, (_, i) => [`k${i}`, i]))),
  `[[[[{"deep":[{"x":null}]}]]]]`,
  // what the adapter publishes for the seed's relay and a room message
  `["8LyKe9",{"type":2,"data":["offer",{"type":"offer","sdp":"v=0\\r\\n"}],"nsp":"/"},{"rooms":[],"except":["_brYKaYo1nGb-_5iAAAA"],"flags":{}}]`,
  `["8LyKe9",{"type":2,"data":["inroom","hello"],"nsp":"/"},{"rooms":["room1"],"except":[],"flags":{}}]`,
];
for (const v of values) {
  const wraps = JSON.stringify(JSON.parse(v), (k, x) => (typeof x === "number" && Math.abs(x) >= 2 ** 64 ? "WRAPS" : x)).includes("WRAPS");
  console.log(`${wraps ? "encx" : "enc"} ${notepack.encode(JSON.parse(v)).toString("hex")} ${v}`);
}

const decodes = [
  notepack.encode([1, undefined, 2]),
  notepack.encode({ a: 1, u: undefined }),
  notepack.encode(new Date(Date.UTC(2026, 11, 3, 14, 0, 0))),
  notepack.encode(new Date(Date.UTC(2026, 11, 3, 14, 0, 0, 123))),
  notepack.encode(new Date(Date.UTC(1960, 0, 1))),
  Buffer.from("ca3fc00000", "hex"), // float 32: 1.5
  Buffer.from("d9036162 63".replace(/ /g, ""), "hex"), // str 8 of 3
];
for (const b of decodes)
  console.log(`dec ${b.toString("hex")} ${JSON.stringify(notepack.decode(b))}`);
