/*
 * The gst-mesh-data channel for pages (docs/protocol.md §7): the framing
 * that lets a message of any size cross SCTP's message limit, the same as
 * meshsignal's (gst/mesh/gstmeshdata.c). Usable by any page:
 *
 *   const ch = GstMeshData.open(pc);            // the offerer, before createOffer()
 *   pc.ondatachannel = (e) => GstMeshData.isOurs(e.channel) && use(e.channel);
 *   const rx = new GstMeshData.Assembler();
 *   ch.binaryType = "arraybuffer";
 *   ch.onmessage = (e) => {
 *     const m = rx.push(e.data);                // {text} or {bytes}, or null
 *     ...                                       // throws on bad input
 *   };
 *   await GstMeshData.send(ch, "hello");        // or an ArrayBuffer/Uint8Array
 */
"use strict";

window.GstMeshData = (() => {
  const LABEL = "gst-mesh-data";
  const PROTOCOL = "gst-mesh-data/1";
  const CHUNK = 16384; // the largest SCTP message sent
  const FINAL = 0x01;
  const TEXT = 0x02;
  const KEEPALIVE = 0x04;
  const MAX_MESSAGE = 64 * 1024 * 1024;
  // send() waits while the channel holds more than this
  const HIGH_WATER = 1024 * 1024;
  const LOW_WATER = 256 * 1024;

  const encoder = new TextEncoder();
  const decoder = new TextDecoder("utf-8", { fatal: true });

  const open = (pc) => pc.createDataChannel(LABEL, { protocol: PROTOCOL });
  const isOurs = (channel) => channel.label === LABEL;

  function asBytes(data) {
    if (data instanceof Uint8Array) return data;
    if (data instanceof ArrayBuffer) return new Uint8Array(data);
    if (ArrayBuffer.isView(data)) return new Uint8Array(data.buffer, data.byteOffset, data.byteLength);
    throw new TypeError("a message is a string, an ArrayBuffer or a typed array");
  }

  /** The SCTP messages of one message: strings and Uint8Arrays. */
  function frames(message) {
    let bytes;
    let base = 0;
    if (typeof message === "string") {
      bytes = encoder.encode(message);
      if (bytes.length <= CHUNK) return [message];
      base = TEXT;
    } else {
      bytes = asBytes(message);
    }
    if (bytes.length > MAX_MESSAGE) throw new RangeError(`${bytes.length} bytes is over the limit of ${MAX_MESSAGE}`);
    const out = [];
    let off = 0;
    do {
      const n = Math.min(CHUNK - 1, bytes.length - off);
      const f = new Uint8Array(n + 1);
      f[0] = base | (off + n === bytes.length ? FINAL : 0);
      f.set(bytes.subarray(off, off + n), 1);
      out.push(f);
      off += n;
    } while (off < bytes.length);
    return out;
  }

  function drained(channel) {
    return new Promise((resolve) => {
      const done = () => {
        channel.removeEventListener("bufferedamountlow", done);
        channel.removeEventListener("close", done);
        resolve();
      };
      channel.addEventListener("bufferedamountlow", done);
      channel.addEventListener("close", done);
    });
  }

  /** Sends one message; waits while the channel's buffer is full. */
  async function send(channel, message) {
    channel.bufferedAmountLowThreshold = LOW_WATER;
    for (const f of frames(message)) {
      if (channel.readyState !== "open") throw new Error(`channel is ${channel.readyState}`);
      if (channel.bufferedAmount > HIGH_WATER) await drained(channel);
      if (channel.readyState !== "open") throw new Error(`channel is ${channel.readyState}`);
      channel.send(f);
    }
  }

  /** Puts messages together from what one channel receives. */
  class Assembler {
    constructor(maxMessage = MAX_MESSAGE) {
      this.max = maxMessage;
      this.reset();
    }

    reset() {
      this.parts = [];
      this.size = 0;
      this.active = false;
      this.text = false;
      this.skipping = false;
    }

    /** Bytes of an unfinished message. */
    get pending() {
      return this.active ? this.size : 0;
    }

    /**
     * One SCTP message (a string, or an ArrayBuffer: set the channel's
     * binaryType to "arraybuffer"). Returns {text} or {bytes} when a
     * message is whole (with `warning` when it cut short a chunked one),
     * null otherwise; throws an Error naming what was wrong (what was kept
     * of the message is dropped).
     */
    push(data) {
      if (typeof data === "string") {
        const had = this.pending;
        this.reset();
        // the string still counts; the message it cut into does not
        if (had) return { text: data, warning: `a string within a chunked message: ${had} bytes of it dropped` };
        return { text: data };
      }
      const b = asBytes(data);
      if (b.length === 0) {
        this.reset();
        throw new Error("empty binary message (no flags byte)");
      }
      const flags = b[0];
      if (flags === KEEPALIVE && b.length === 1) return null;
      if (flags & ~(FINAL | TEXT)) {
        this.reset();
        throw new Error(`unknown flags 0x${flags.toString(16).padStart(2, "0")}`);
      }
      const isText = (flags & TEXT) !== 0;
      if (this.skipping) {
        if (flags & FINAL) this.skipping = false;
        return null;
      }
      if (this.active && this.text !== isText) {
        const had = this.size;
        this.reset();
        throw new Error(`a ${isText ? "text" : "binary"} chunk within a ${isText ? "binary" : "text"} message: ${had} bytes dropped`);
      }
      if (this.size + b.length - 1 > this.max) {
        this.reset();
        this.skipping = !(flags & FINAL);
        throw new Error(`message over the limit of ${this.max} bytes: dropped`);
      }
      this.active = true;
      this.text = isText;
      this.parts.push(b.subarray(1));
      this.size += b.length - 1;
      if (!(flags & FINAL)) return null;
      const whole = new Uint8Array(this.size);
      let off = 0;
      for (const p of this.parts) {
        whole.set(p, off);
        off += p.length;
      }
      this.reset();
      return isText ? { text: decoder.decode(whole) } : { bytes: whole };
    }
  }

  return { LABEL, PROTOCOL, CHUNK, MAX_MESSAGE, open, isOurs, frames, send, Assembler };
})();
