// gst-mesh benchmarks: the glass-to-glass hooks for a seed page, shared by
// glass.mjs and capped-link.mjs. Give `pageHooks` to addInitScript (the
// page's script is untouched): getUserMedia then returns
//   video: a 640x480 canvas (captureStream(30)) redrawn on every animation
//          frame with Date.now() in 16 black/white blocks, as glass.c does;
//   audio: an AudioWorklet writing a 20 ms burst at each multiple of 250 ms
//          of Date.now(), its pitch saying which of four;
// and the remote video is read at each presented frame
// (requestVideoFrameCallback, Date.now()) and the remote audio in another
// AudioWorklet. window.__glass then holds `video` and `audio`: the delay
// (ms) of each frame and burst, in the order they came. The audio graph
// runs without a click only with Chromium's
// --autoplay-policy=no-user-gesture-required.

export function pageHooks() {
  if (window.__glass) return;
  const G = (window.__glass = { video: [], audio: [], errors: [] });
  const W = 640,
    H = 480;
  const BURST = `
    const FREQS = [500, 1000, 1500, 2000];
    // Chromium runs render quanta in batches: Date.now() in process() is
    // when a batch runs, not when its quantum plays. The audio clock
    // (currentFrame) is regular: wall time of this quantum = the wall time
    // at an anchor plus the frames since, re-anchored if they part by more
    // than 20 ms.
    let anchorT = null, anchorF = 0;
    const wall = () => {
      const now = Date.now();
      const t = anchorT === null ? null : anchorT + ((currentFrame - anchorF) * 1000) / sampleRate;
      if (t === null || Math.abs(t - now) > 20) {
        anchorT = now;
        anchorF = currentFrame;
        return now;
      }
      return t;
    };
    class Gen extends AudioWorkletProcessor {
      constructor() { super(); this.left = 0; this.phase = 0; this.freq = 0; }
      process(inputs, outputs) {
        const out = outputs[0][0];
        const n = out.length, t = wall();
        let start = n;
        out.fill(0);
        if (!this.left) {
          const next = Math.ceil(t / 250) * 250;
          const off = Math.round(((next - t) * sampleRate) / 1000);
          if (off < n) {
            start = off;
            this.left = Math.round(sampleRate * 0.02);
            this.freq = FREQS[(next / 250) % 4];
            this.phase = 0;
          }
        } else start = 0;
        for (let i = start; i < n && this.left > 0; i++, this.left--) {
          out[i] = 0.37 * Math.sin(this.phase);
          this.phase += (2 * Math.PI * this.freq) / sampleRate;
        }
        return true;
      }
    }
    class Read extends AudioWorkletProcessor {
      constructor() { super(); this.inBurst = false; this.quiet = 0; }
      process(inputs) {
        const inp = inputs[0] && inputs[0][0];
        if (!inp) return true;
        const t = wall();
        const win = sampleRate / 100;
        for (let i = 0; i < inp.length; i++) {
          const v = inp[i];
          if (!this.inBurst) {
            if (Math.abs(v) > 0.12) {
              this.inBurst = true;
              this.onset = t + (i * 1000) / sampleRate;
              this.cross = 0; this.counted = 0; this.quiet = 0; this.last = v;
            }
            continue;
          }
          if (this.counted < win) {
            if ((v >= 0) !== (this.last >= 0)) this.cross++;
            this.last = v;
            if (++this.counted === win) {
              const k = Math.max(0, Math.min(3, Math.round(this.cross / 10) - 1));
              let b = Math.floor(this.onset / 250) * 250;
              while ((b / 250) % 4 !== k) b -= 250;
              this.port.postMessage(this.onset - b);
            }
          }
          if (Math.abs(v) < 0.037) {
            if (++this.quiet > sampleRate / 20) this.inBurst = false;
          } else this.quiet = 0;
        }
        return true;
      }
    }
    registerProcessor("glass-gen", Gen);
    registerProcessor("glass-read", Read);`;
  let ctxPromise = null;
  const audioContext = () =>
    (ctxPromise ??= (async () => {
      const ctx = new AudioContext({ sampleRate: 48000 });
      const url = URL.createObjectURL(new Blob([BURST], { type: "application/javascript" }));
      await ctx.audioWorklet.addModule(url);
      await ctx.resume();
      return ctx;
    })());

  const draw = (g, t) => {
    const code = t & 0xffff;
    for (let b = 0; b < 16; b++) {
      g.fillStyle = (code >> b) & 1 ? "#fff" : "#000";
      g.fillRect((b % 4) * (W / 4), Math.floor(b / 4) * (H / 4), W / 4, H / 4);
    }
  };

  navigator.mediaDevices.getUserMedia = async () => {
    const canvas = document.createElement("canvas");
    canvas.width = W;
    canvas.height = H;
    const g = canvas.getContext("2d");
    const tick = () => {
      draw(g, Date.now());
      requestAnimationFrame(tick);
    };
    tick();
    const stream = canvas.captureStream(30);
    const ctx = await audioContext();
    const gen = new AudioWorkletNode(ctx, "glass-gen");
    const dest = ctx.createMediaStreamDestination();
    gen.connect(dest);
    stream.addTrack(dest.stream.getAudioTracks()[0]);
    return stream;
  };

  // the reader: once the seed's script has put the remote stream in place
  const small = document.createElement("canvas");
  small.width = small.height = 32;
  const sg = small.getContext("2d", { willReadFrequently: true });
  let readingAudio = null;
  const onFrame = (now, meta) => {
    const t = Date.now();
    const v = document.getElementById("remoteVideo");
    try {
      sg.drawImage(v, 0, 0, 32, 32);
      const px = sg.getImageData(0, 0, 32, 32).data;
      let code = 0,
        ok = true;
      for (let b = 0; b < 16; b++) {
        const x = (b % 4) * 8 + 4,
          y = Math.floor(b / 4) * 8 + 4;
        const l = px[(y * 32 + x) * 4 + 1];
        if (l > 160) code |= 1 << b;
        else if (l > 90) ok = false;
      }
      if (ok) G.video.push(((t & 0xffff) - code + 0x10000) & 0xffff);
    } catch (e) {
      G.errors.push(String(e));
    }
    v.requestVideoFrameCallback(onFrame);
  };
  const arm = setInterval(async () => {
    const v = document.getElementById("remoteVideo");
    if (!v || !v.srcObject) return;
    clearInterval(arm);
    v.requestVideoFrameCallback(onFrame);
    if (!readingAudio && v.srcObject.getAudioTracks().length) {
      const ctx = await audioContext();
      const src = ctx.createMediaStreamSource(v.srcObject);
      readingAudio = new AudioWorkletNode(ctx, "glass-read", { numberOfOutputs: 0 });
      readingAudio.port.onmessage = (e) => G.audio.push(e.data);
      src.connect(readingAudio);
    }
  }, 20);
}
