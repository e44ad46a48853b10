/*
 * The seed's page grown into a mesh room: one RTCPeerConnection per remote
 * peer, a grid of their videos, over the rooms protocol of gst-mesh-server
 * and examples/rooms-server (docs/protocol.md §4). Browsers and meshsignal
 * pipelines in the same room all call each other.
 *
 * 1. Connects to the Socket.IO server (this page's origin, or ?server=).
 * 2. Start: camera and microphone, shown in #localVideo.
 * 3. Join: `join {room, uid}`; the ack lists the peers already there and
 *    this page, the newcomer, offers to each of them (`to` = their id).
 * 4. Offers from later newcomers are answered (`to` = the offer's `from`);
 *    candidates go with `to` both ways and wait for the remote description.
 * 5. `peer-left` closes that peer's connection and removes its tile. A
 *    connection that fails is offered again, by the side that offered it,
 *    with a new RTCPeerConnection, while the peer is still in the room.
 * 6. `hangup` from a peer (e.g. "busy": a pipeline at its max-peers)
 *    closes that connection; the tile stays and says why.
 * 7. Chat and files over each connection's `gst-mesh-data` channel
 *    (meshdata.js, docs/protocol.md §7), opened by whoever offers: a chat
 *    line is a text message; a file is a text header {"type":"file",...}
 *    and its bytes as binary messages, to every member, with a progress
 *    bar and a download link on both sides. Binary messages without a
 *    header (a pipeline's `filesrc ! data_sink`) show as a download of
 *    what came; a pipeline's `data_src` gets a file's bytes alone.
 *
 * URL parameters:
 *   room=NAME      prefills the room box (default "mesh")
 *   auto=1         Start and Join at once (no clicks: for tests and kiosks)
 *   server=ORIGIN  signalling server, e.g. http://127.0.0.1:4000 (default:
 *                  the origin that served this page); the socket.io client
 *                  script is loaded from there too
 *   stun=URL[,URL] STUN servers, e.g. stun:stun.example.org:3478 (default
 *                  none: host candidates only, nothing leaves the LAN);
 *                  a server started with --turn-secret adds its TURN
 *                  servers, with time-limited credentials ("ice-servers")
 *   video=WxH[@FPS] camera constraints, e.g. 320x180@15 (default: any)
 *
 * For tests and debugging: window.mesh is the page's state as plain data
 * (id, uid, room, signalling, peers: {id: {uid, offerer, state, ice,
 * frames, restarts, data, ...}}, left: {id: {at, reason}}, errors, log,
 * chat: [{from, text}], files: [{from, to, name, size, bytes, done,
 * sha256}], dataErrors); window.meshControl has start(), join(room),
 * leave(), stats() (per peer getStats figures), pc(id), sendChat(text),
 * sendFile(name, bytes or File), fileBytes(index) (base64), and for
 * tests and benchmarks sendData(id, message), sendRaw(id, bytes) and
 * setDataHook(fn(id, {text}|{bytes}) → true to consume).
 */
"use strict";

(() => {
  const params = new URLSearchParams(location.search);
  const MAX_QUEUED_CANDIDATES = 256;
  const RETRY_MIN_MS = 1000;
  const RETRY_MAX_MS = 10000;
  const MAX_LOG = 500;

  const localVideo = document.getElementById("localVideo");
  const grid = document.getElementById("remoteGrid");
  const roomInput = document.getElementById("roomInput");
  const startButton = document.getElementById("startButton");
  const joinButton = document.getElementById("joinButton");
  const leaveButton = document.getElementById("leaveButton");
  const statusText = document.getElementById("status");
  const chatLog = document.getElementById("chatLog");
  const chatInput = document.getElementById("chatInput");
  const sendButton = document.getElementById("sendButton");
  const fileInput = document.getElementById("fileInput");
  const fileList = document.getElementById("files");

  // ---- settings from the URL ----

  function parseIceServers(value) {
    if (!value) return [];
    return value
      .split(",")
      .map((u) => u.trim())
      .filter(Boolean)
      .map((u) => ({ urls: /^stuns?:/.test(u) ? u : `stun:${u}` }));
  }

  function parseVideo(value) {
    if (!value) return true;
    const m = /^(\d+)x(\d+)(?:@(\d+))?$/.exec(value);
    if (!m) {
      console.warn(`ignoring video=${value}: expected WxH or WxH@FPS`);
      return true;
    }
    const c = { width: { ideal: Number(m[1]) }, height: { ideal: Number(m[2]) } };
    if (m[3]) c.frameRate = { ideal: Number(m[3]) };
    return c;
  }

  function parseServer(value) {
    if (!value) return null;
    try {
      return new URL(value, location.href).origin;
    } catch {
      console.warn(`ignoring server=${value}: not a URL`);
      return null;
    }
  }

  const ICE_SERVERS = parseIceServers(params.get("stun"));
  const VIDEO = parseVideo(params.get("video"));
  const SERVER = parseServer(params.get("server"));
  const AUTO = params.get("auto") === "1";
  roomInput.value = params.get("room") ?? "mesh";

  // One id per page load, so apps can tell a reloaded page from a new
  // person (servers that know `uid` pass it on; the page works without).
  const uid =
    typeof crypto.randomUUID === "function"
      ? crypto.randomUUID()
      : Array.from(crypto.getRandomValues(new Uint8Array(16)), (b) => b.toString(16).padStart(2, "0")).join("");

  // ---- state ----

  /** The page's state as plain data, for tests and the console. */
  const mesh = (window.mesh = {
    uid,
    id: null, // our socket id, from the join ack
    room: null, // the room we are in (from the ack)
    signalling: "connecting",
    local: false, // camera and microphone started
    peers: {}, // id -> view (see addPeer)
    left: {}, // id -> {at: Date.now(), reason}
    errors: [], // `error` events of the server and failed joins
    iceServers: 0, // entries the signalling server handed out (ice-servers)
    log: [],
    chat: [], // {from, text}: received and sent (from: our id)
    files: [], // {from, to, name, size, bytes, done, sha256}: both ways
    dataErrors: [], // {from, error}: data channel messages dropped
  });

  /** id -> Peer: the view above plus the connection and the tile. */
  const peers = new Map();
  let socket = null;
  let localStream = null;
  let wantedRoom = null; // joined (or to join on connect) until Leave

  function log(text) {
    const line = `${new Date().toISOString().slice(11, 23)} ${text}`;
    mesh.log.push(line);
    if (mesh.log.length > MAX_LOG) mesh.log.splice(0, mesh.log.length - MAX_LOG);
    console.log(`[mesh] ${text}`);
  }

  function showStatus() {
    const parts = [mesh.signalling];
    if (mesh.id) parts.push(`id ${mesh.id}`);
    if (mesh.room !== null) parts.push(`room "${mesh.room}"`, `${peers.size} peer${peers.size === 1 ? "" : "s"}`);
    statusText.textContent = parts.join(" · ");
    joinButton.disabled = !socket;
    leaveButton.disabled = wantedRoom === null;
  }

  const isObject = (v) => typeof v === "object" && v !== null && !Array.isArray(v);

  // The o= line's session id: a new one means a new RTCPeerConnection on
  // the offering side (it failed and was made again), not a renegotiation.
  function sdpSession(sdp) {
    const m = /^o=\S+ (\S+) /m.exec(sdp);
    return m ? m[1] : null;
  }

  // ---- local media ----

  async function start() {
    if (localStream) return localStream;
    startButton.disabled = true;
    try {
      localStream = await navigator.mediaDevices.getUserMedia({ video: VIDEO, audio: true });
    } catch (e) {
      startButton.disabled = false;
      mesh.errors.push({ event: "getUserMedia", message: e.message });
      log(`camera/microphone: ${e.name}: ${e.message}`);
      throw e;
    }
    localVideo.srcObject = localStream;
    mesh.local = true;
    log(`local media: ${localStream.getTracks().map((t) => t.kind).join(", ")}`);
    return localStream;
  }

  // Video before audio, as meshsignal's offers; without local media the
  // page still receives.
  function addLocalMedia(pc) {
    if (pc.getSenders().some((s) => s.track)) return;
    for (const kind of ["video", "audio"]) {
      const track = localStream?.getTracks().find((t) => t.kind === kind);
      if (track) pc.addTrack(track, localStream);
      else if (!pc.getTransceivers().some((t) => t.receiver.track.kind === kind))
        pc.addTransceiver(kind, { direction: "recvonly" });
    }
  }

  // ---- the grid ----

  function relayout() {
    grid.dataset.count = String(peers.size);
    grid.style.setProperty("--cols", String(Math.max(1, Math.ceil(Math.sqrt(peers.size)))));
    showStatus();
  }

  function makeTile(p) {
    const figure = document.createElement("figure");
    figure.className = "tile";
    figure.dataset.peer = p.id;
    const video = document.createElement("video");
    video.autoplay = true;
    video.playsInline = true;
    const caption = document.createElement("figcaption");
    figure.append(video, caption);
    grid.append(figure);
    p.tile = figure;
    p.video = video;
    p.caption = caption;

    // Count frames as they are presented (the test's "it decodes").
    if ("requestVideoFrameCallback" in video) {
      const onFrame = (now, meta) => {
        if (peers.get(p.id) !== p) return;
        p.view.frames = meta.presentedFrames;
        p.view.width = meta.width;
        p.view.height = meta.height;
        video.requestVideoFrameCallback(onFrame);
      };
      video.requestVideoFrameCallback(onFrame);
    }
    // Browsers refuse to autoplay sound before the user touched the page
    // (?auto=1): play muted then, and unmute on a click on the tile.
    video.addEventListener("click", () => {
      video.muted = false;
      p.view.muted = false;
      showCaption(p);
    });
    showCaption(p);
  }

  function showCaption(p) {
    const uidText = p.view.uid ? ` (${p.view.uid.slice(0, 8)})` : "";
    const muted = p.view.muted ? " · muted, click to unmute" : "";
    p.caption.textContent = `${p.id}${uidText} · ${p.view.state}${muted}`;
    p.caption.title = p.view.uid ? `socket ${p.id}, uid ${p.view.uid}` : `socket ${p.id}`;
    p.tile.dataset.state = p.view.state;
  }

  function playTile(p) {
    p.video.play().catch(() => {
      if (p.video.muted) return;
      p.video.muted = true;
      p.view.muted = true;
      showCaption(p);
      p.video.play().catch((e) => log(`${p.id}: cannot play: ${e.message}`));
    });
  }

  // ---- peers ----

  function addPeer(id, offerer, peerUid) {
    const p = {
      id,
      offerer,
      pc: null,
      queue: [], // remote candidates waiting for the remote description
      remoteSession: null,
      retryTimer: null,
      retries: 0,
      chain: Promise.resolve(), // signalling steps of this peer, in order
      view: {
        uid: typeof peerUid === "string" ? peerUid : null,
        offerer,
        state: offerer ? "new" : "waiting for offer",
        ice: null,
        frames: 0,
        width: 0,
        height: 0,
        muted: false,
        restarts: 0,
        since: Date.now(),
        connectedAt: null,
        data: "none", // its gst-mesh-data channel: none, connecting, open, closed
      },
      channel: null,
      rx: null, // its GstMeshData.Assembler
      incoming: null, // the file it is sending us
    };
    peers.set(id, p);
    mesh.peers[id] = p.view;
    makeTile(p);
    relayout();
    log(`peer ${id} added (${offerer ? "we offer" : "it offers"})`);
    return p;
  }

  function setState(p, state) {
    p.view.state = state;
    showCaption(p);
  }

  function closePc(p) {
    const pc = p.pc;
    p.pc = null;
    dropChannel(p, "connection closed");
    if (!pc) return;
    pc.ontrack = pc.onicecandidate = pc.onconnectionstatechange = pc.oniceconnectionstatechange = null;
    pc.ondatachannel = null;
    pc.close();
  }

  function removePeer(id, reason) {
    const p = peers.get(id);
    if (!p) return;
    clearTimeout(p.retryTimer);
    closePc(p);
    p.video.srcObject = null;
    p.tile.remove();
    peers.delete(id);
    delete mesh.peers[id];
    mesh.left[id] = { at: Date.now(), reason };
    relayout();
    log(`peer ${id} removed: ${reason}`);
  }

  function removeAll(reason) {
    for (const id of [...peers.keys()]) removePeer(id, reason);
  }

  /** A fresh RTCPeerConnection for @p, replacing any previous one. */
  function newPc(p) {
    closePc(p);
    const pc = new RTCPeerConnection({ iceServers: [...ICE_SERVERS, ...serverIce.servers] });
    const stream = new MediaStream();
    p.pc = pc;
    p.queue = [];
    p.video.srcObject = stream;
    p.view.connectedAt = null;

    pc.ontrack = (e) => {
      stream.addTrack(e.track);
      playTile(p);
    };
    pc.onicecandidate = (e) => {
      // null is the end of gathering, "" end-of-candidates: neither is sent.
      if (e.candidate && e.candidate.candidate) socket.emit("candidate", { ...e.candidate.toJSON(), to: p.id });
    };
    pc.oniceconnectionstatechange = () => {
      p.view.ice = pc.iceConnectionState;
    };
    pc.ondatachannel = (e) => {
      if (p.pc !== pc) return;
      if (GstMeshData.isOurs(e.channel) && !p.channel) useChannel(p, e.channel);
      else log(`peer ${p.id}: data channel "${e.channel.label}" ignored`);
    };
    pc.onconnectionstatechange = () => {
      if (p.pc !== pc) return;
      setState(p, pc.connectionState);
      log(`peer ${p.id}: ${pc.connectionState}`);
      if (pc.connectionState === "connected") {
        p.retries = 0;
        p.view.connectedAt = Date.now();
      } else if (pc.connectionState === "failed") {
        if (p.offerer) retry(p, "connection failed");
        else log(`peer ${p.id}: failed; it offered, so it offers again`);
      }
    };
    return pc;
  }

  function retry(p, why) {
    if (p.retryTimer || peers.get(p.id) !== p) return;
    const delay = Math.min(RETRY_MAX_MS, RETRY_MIN_MS * 2 ** p.retries);
    p.retries++;
    log(`peer ${p.id}: ${why}; offering again in ${delay} ms`);
    p.retryTimer = setTimeout(() => {
      p.retryTimer = null;
      if (peers.get(p.id) !== p || mesh.room === null) return;
      p.view.restarts++;
      call(p);
    }, delay);
  }

  /** Offer to @p on a new connection (we are the newcomer, or it failed). */
  function call(p) {
    p.offerer = p.view.offerer = true;
    p.chain = p.chain.then(async () => {
      if (peers.get(p.id) !== p) return;
      const pc = newPc(p);
      setState(p, "calling");
      try {
        addLocalMedia(pc);
        // before the offer, which then has its m=application line
        useChannel(p, GstMeshData.open(pc));
        await pc.setLocalDescription(await pc.createOffer());
        if (p.pc !== pc) return;
        socket.emit("offer", { type: "offer", sdp: pc.localDescription.sdp, to: p.id });
      } catch (e) {
        if (p.pc !== pc) return;
        log(`peer ${p.id}: cannot make an offer: ${e.message}`);
        retry(p, "offer failed");
      }
    });
  }

  async function applyQueued(p, pc) {
    for (const c of p.queue.splice(0)) await addCandidate(p, pc, c);
  }

  async function addCandidate(p, pc, c) {
    try {
      await pc.addIceCandidate(c);
    } catch (e) {
      // e.g. a candidate of the connection this one replaced
      console.warn(`[mesh] peer ${p.id}: candidate refused: ${e.message}`);
    }
  }

  function onOffer(from, data) {
    if (data.type !== "offer" || typeof data.sdp !== "string") {
      log(`offer from ${from} ignored: needs type "offer" and an sdp string`);
      return;
    }
    const p = peers.get(from) ?? addPeer(from, false);
    p.chain = p.chain.then(async () => {
      if (peers.get(from) !== p) return;
      // Both offering (not in the protocol, but cheap to survive): the
      // larger id keeps its offer, the smaller answers.
      if (p.pc && p.offerer && p.pc.signalingState === "have-local-offer" && mesh.id > from) {
        log(`peer ${from}: colliding offer ignored (our id is larger)`);
        return;
      }
      const session = sdpSession(data.sdp);
      let pc = p.pc;
      if (!pc || p.offerer || session !== p.remoteSession || pc.connectionState === "closed") {
        clearTimeout(p.retryTimer);
        p.retryTimer = null;
        p.offerer = p.view.offerer = false;
        if (p.remoteSession !== null) p.view.restarts++;
        pc = newPc(p);
      }
      p.remoteSession = session;
      setState(p, "answering");
      try {
        await pc.setRemoteDescription({ type: "offer", sdp: data.sdp });
        if (p.pc !== pc) return;
        addLocalMedia(pc);
        await pc.setLocalDescription(await pc.createAnswer());
        if (p.pc !== pc) return;
        socket.emit("answer", { type: "answer", sdp: pc.localDescription.sdp, to: from });
        setState(p, pc.connectionState);
        await applyQueued(p, pc);
      } catch (e) {
        log(`peer ${from}: cannot answer its offer: ${e.message}`);
        setState(p, "failed");
      }
    });
  }

  function onAnswer(from, data) {
    const p = peers.get(from);
    if (!p || data.type !== "answer" || typeof data.sdp !== "string") {
      log(`answer from ${from} ignored: ${p ? 'needs type "answer" and an sdp string' : "unknown peer"}`);
      return;
    }
    p.chain = p.chain.then(async () => {
      const pc = p.pc;
      if (!pc || pc.signalingState !== "have-local-offer") {
        log(`answer from ${from} ignored: no offer of ours waits for it`);
        return;
      }
      try {
        await pc.setRemoteDescription({ type: "answer", sdp: data.sdp });
        if (p.pc !== pc) return;
        p.remoteSession = sdpSession(data.sdp);
        setState(p, pc.connectionState);
        await applyQueued(p, pc);
      } catch (e) {
        if (p.pc !== pc) return;
        log(`peer ${from}: its answer was refused: ${e.message}`);
        retry(p, "answer refused");
      }
    });
  }

  function onCandidate(from, data) {
    const p = peers.get(from);
    if (!p) {
      log(`candidate from ${from} ignored: unknown peer`);
      return;
    }
    if (typeof data.candidate !== "string" || data.candidate === "") return;
    const c = {
      candidate: data.candidate,
      sdpMid: data.sdpMid ?? null,
      sdpMLineIndex: data.sdpMLineIndex ?? null,
    };
    if (typeof data.usernameFragment === "string") c.usernameFragment = data.usernameFragment;
    p.chain = p.chain.then(async () => {
      const pc = p.pc;
      if (!pc || !pc.remoteDescription) {
        if (p.queue.length < MAX_QUEUED_CANDIDATES) p.queue.push(c);
        else log(`peer ${from}: candidate dropped, ${MAX_QUEUED_CANDIDATES} already wait`);
        return;
      }
      await addCandidate(p, pc, c);
    });
  }

  // ---- rooms ----

  function sendJoin(room) {
    log(`joining "${room}" as ${socket.id}`);
    socket.emit("join", { room, uid }, (ack) => {
      if (!isObject(ack) || typeof ack.error === "string" || !Array.isArray(ack.peers)) {
        const message = isObject(ack) && typeof ack.error === "string" ? ack.error : `bad join ack ${JSON.stringify(ack)}`;
        mesh.errors.push({ event: "join", room, message });
        log(`join "${room}" refused: ${message}`);
        if (wantedRoom === room) wantedRoom = null;
        statusText.textContent = `cannot join "${room}": ${message}`;
        leaveButton.disabled = true;
        return;
      }
      if (wantedRoom !== room) return; // left (or joined another) meanwhile
      if (mesh.room !== ack.room || mesh.id !== ack.id) removeAll(`joined "${ack.room}"`);
      mesh.id = ack.id;
      mesh.room = ack.room;
      const uids = isObject(ack.uids) ? ack.uids : {};
      // Joining the room we are in again: drop whoever is gone.
      for (const id of [...peers.keys()]) if (!ack.peers.includes(id)) removePeer(id, "not in the join ack");
      for (const id of ack.peers) {
        if (typeof id !== "string" || id === mesh.id || peers.has(id)) continue;
        call(addPeer(id, true, uids[id]));
      }
      log(`in "${ack.room}" as ${ack.id}, ${ack.peers.length} there before us`);
      showStatus();
    });
  }

  async function join(room = roomInput.value.trim()) {
    if (!room) {
      statusText.textContent = "enter a room name";
      return;
    }
    await start();
    wantedRoom = room;
    roomInput.value = room;
    const url = new URL(location.href);
    url.searchParams.set("room", room);
    history.replaceState(null, "", url);
    if (socket?.connected) sendJoin(room);
    showStatus();
  }

  function leave() {
    wantedRoom = null;
    removeAll("left the room");
    if (socket?.connected) socket.emit("leave"); // harmless in no room
    mesh.room = null;
    showStatus();
  }

  // The peer will not take our call (a meshsignal at its max-peers says
  // "busy"): stop calling it and say so on its tile. It may call us later.
  function onHangup(from, data) {
    const p = peers.get(from);
    if (!p) return;
    const reason = typeof data.reason === "string" ? data.reason : "no reason given";
    clearTimeout(p.retryTimer);
    p.retryTimer = null;
    closePc(p);
    setState(p, `hung up: ${reason}`);
    log(`peer ${from} hung up: ${reason}`);
  }

  // Messages for us: routed (`to` is our id) with the sender's `from`.
  // Broadcasts (the seed's 1:1, or pipelines not in a room) are not ours.
  function routed(event, handler) {
    socket.on(event, (data) => {
      if (!isObject(data) || mesh.id === null || data.to !== mesh.id) return;
      if (typeof data.from !== "string" || data.from === mesh.id) {
        log(`${event} without a valid "from" ignored`);
        return;
      }
      handler(data.from, data);
    });
  }

  // The ICE servers the signalling server hands out (gst-mesh-server
  // --turn-secret/--turn-url): TURN with credentials that expire after
  // `ttl` seconds, so fresh ones are asked for before then. New peer
  // connections use the latest; ?stun= servers come first.
  const serverIce = { servers: [], ttl: 0, timer: null };
  function takeIceServers(data) {
    if (!isObject(data) || !Array.isArray(data.iceServers)) {
      log(`ice-servers ignored: ${JSON.stringify(data)}`);
      return;
    }
    serverIce.servers = data.iceServers.filter((s) => isObject(s) && (typeof s.urls === "string" || Array.isArray(s.urls)));
    serverIce.ttl = Number.isInteger(data.ttl) && data.ttl > 0 ? data.ttl : 0;
    mesh.iceServers = serverIce.servers.length;
    clearTimeout(serverIce.timer);
    if (serverIce.ttl > 0) {
      const delay = Math.max(1, Math.min(serverIce.ttl * 0.8, serverIce.ttl - Math.min(serverIce.ttl / 5, 60)));
      serverIce.timer = setTimeout(() => socket.emit("ice-servers", takeIceServers), delay * 1000);
    }
  }

  function connect() {
    socket = SERVER ? io(SERVER) : io();
    socket.on("ice-servers", takeIceServers);
    socket.on("connect", () => {
      mesh.signalling = "connected";
      log(`connected as ${socket.id}`);
      // A reconnection is a new socket id: the room saw us leave, so we
      // come back as a newcomer and call everyone again.
      if (mesh.id !== null && mesh.id !== socket.id) {
        removeAll("signalling reconnected");
        mesh.id = null;
        mesh.room = null;
      }
      if (wantedRoom !== null) sendJoin(wantedRoom);
      showStatus();
    });
    socket.on("disconnect", (reason) => {
      mesh.signalling = "disconnected";
      log(`signalling disconnected: ${reason}`);
      showStatus();
    });
    socket.on("connect_error", (e) => {
      mesh.signalling = "connecting";
      log(`signalling: ${e.message}`);
      showStatus();
    });
    socket.on("peer-joined", (data) => {
      if (!isObject(data) || typeof data.id !== "string" || data.id === mesh.id) return;
      if (mesh.room === null || data.room !== mesh.room) return;
      const p = peers.get(data.id);
      if (p) {
        if (typeof data.uid === "string") p.view.uid = data.uid;
        showCaption(p);
      } else if (data.offer === true) {
        // a member found when a cluster of servers healed: we offer
        call(addPeer(data.id, true, data.uid));
      } else {
        addPeer(data.id, false, data.uid);
      }
    });
    socket.on("peer-left", (data) => {
      if (!isObject(data) || typeof data.id !== "string") return;
      if (data.room !== undefined && data.room !== mesh.room) return;
      removePeer(data.id, "left the room");
    });
    socket.on("error", (data) => {
      mesh.errors.push(data);
      log(`server: ${JSON.stringify(data)}`);
    });
    routed("offer", onOffer);
    routed("answer", onAnswer);
    routed("candidate", onCandidate);
    routed("hangup", onHangup);
    showStatus();
  }

  // ---- data: chat and files (meshdata.js) ----

  const hex = (buf) => [...new Uint8Array(buf)].map((b) => b.toString(16).padStart(2, "0")).join("");
  const sha256 = async (bytes) => hex(await crypto.subtle.digest("SHA-256", bytes));

  function dataError(p, error) {
    mesh.dataErrors.push({ from: p.id, error });
    log(`peer ${p.id}: data channel: ${error}`);
  }

  function useChannel(p, channel) {
    p.channel = channel;
    p.rx = new GstMeshData.Assembler();
    p.incoming = null;
    p.view.data = "connecting";
    channel.binaryType = "arraybuffer";
    channel.onopen = () => {
      if (p.channel !== channel) return;
      p.view.data = "open";
      log(`peer ${p.id}: data channel open`);
    };
    channel.onclose = () => {
      if (p.channel === channel) dropChannel(p, "channel closed");
    };
    channel.onmessage = (e) => {
      if (p.channel !== channel) return;
      let m;
      try {
        m = p.rx.push(e.data);
      } catch (err) {
        dataError(p, err.message);
        return;
      }
      if (!m) return;
      if (m.warning) dataError(p, m.warning);
      if (dataHook && dataHook(p.id, m)) return;
      if (m.text !== undefined) onText(p, m.text);
      else onBytes(p, m.bytes);
    };
  }

  function dropChannel(p, why) {
    const ch = p.channel;
    if (!ch) return;
    p.channel = null;
    p.view.data = "closed";
    ch.onopen = ch.onclose = ch.onmessage = null;
    if (p.rx?.pending) dataError(p, `${why} with ${p.rx.pending} bytes of a message`);
    if (p.incoming && !p.incoming.view.done && p.incoming.view.size !== null)
      dataError(p, `${why}: file "${p.incoming.view.name}" stopped at ${p.incoming.view.bytes} of ${p.incoming.view.size} bytes`);
    p.incoming = null;
    try {
      ch.close();
    } catch {}
  }

  function showChat(from, text) {
    mesh.chat.push({ from, text });
    const line = document.createElement("div");
    line.textContent = `${from === mesh.id ? "me" : from}: ${text}`;
    chatLog.append(line);
    chatLog.scrollTop = chatLog.scrollHeight;
  }

  /** A transfer's row: name, progress bar, and a link once there is data. */
  function fileRow(view) {
    const row = document.createElement("div");
    row.className = "file";
    const label = document.createElement("span");
    const bar = document.createElement("progress");
    const link = document.createElement("a");
    bar.max = view.size ?? 1;
    row.append(label, bar, link);
    fileList.append(row);
    const entry = { view, parts: [], row, label, bar, link, url: null, timer: null };
    row._entry = entry;
    entry.show = () => {
      const who = view.from === mesh.id ? `to ${view.to}` : `from ${view.from}`;
      label.textContent = `${view.name} (${who}) ${view.bytes}${view.size !== null ? ` / ${view.size}` : ""} bytes `;
      bar.value = view.size ? Math.min(view.bytes, view.size) : view.bytes ? 1 : 0;
      if (view.size === null) bar.removeAttribute("value");
    };
    entry.show();
    return entry;
  }

  function setLink(entry) {
    if (entry.url) URL.revokeObjectURL(entry.url);
    entry.url = URL.createObjectURL(new Blob(entry.parts, { type: entry.view.mime || "application/octet-stream" }));
    entry.link.href = entry.url;
    entry.link.download = entry.view.name;
    entry.link.textContent = "download";
  }

  async function finish(entry) {
    entry.view.done = true;
    entry.show();
    setLink(entry);
    entry.view.sha256 = await sha256(await new Blob(entry.parts).arrayBuffer());
  }

  function newIncoming(p, header) {
    const view = {
      from: p.id,
      to: mesh.id,
      name: header.name,
      size: header.size,
      mime: header.mime ?? "",
      bytes: 0,
      done: false,
      sha256: null,
    };
    mesh.files.push(view);
    const entry = fileRow(view);
    p.incoming = entry;
    if (view.size === 0) {
      p.incoming = null;
      finish(entry);
    }
    return entry;
  }

  function onText(p, text) {
    let header = null;
    if (text.startsWith("{")) {
      try {
        const o = JSON.parse(text);
        if (isObject(o) && o.type === "file" && Number.isSafeInteger(o.size) && o.size >= 0) header = o;
      } catch {}
    }
    if (!header) {
      showChat(p.id, text);
      return;
    }
    if (p.incoming && !p.incoming.view.done && p.incoming.view.size !== null)
      dataError(p, `file "${p.incoming.view.name}" cut short by the next one at ${p.incoming.view.bytes} bytes`);
    newIncoming(p, { name: typeof header.name === "string" ? header.name : "file", size: header.size, mime: header.mime });
  }

  function onBytes(p, bytes) {
    // no header: a stream of bytes (a pipeline's data_sink), shown as it comes
    const entry = p.incoming ?? newIncoming(p, { name: `data-from-${p.id}.bin`, size: null });
    const view = entry.view;
    if (view.size !== null && view.bytes + bytes.length > view.size) {
      dataError(p, `file "${view.name}": ${view.bytes + bytes.length - view.size} bytes more than its size; the rest starts a stream`);
      const fit = view.size - view.bytes;
      if (fit > 0) onBytes(p, bytes.subarray(0, fit));
      p.incoming = null;
      onBytes(p, bytes.subarray(fit));
      return;
    }
    entry.parts.push(bytes);
    view.bytes += bytes.length;
    entry.show();
    if (view.size !== null && view.bytes === view.size) {
      p.incoming = null;
      finish(entry);
    } else if (view.size === null && !entry.timer) {
      // a stream has no end: its link is refreshed twice a second
      entry.timer = setTimeout(async () => {
        entry.timer = null;
        setLink(entry);
        view.sha256 = await sha256(await new Blob(entry.parts).arrayBuffer());
      }, 500);
    }
  }

  // tests and benchmarks: sees every message first, consumes it by
  // returning true (meshControl.setDataHook)
  let dataHook = null;

  /** The peers with an open data channel. */
  const dataPeers = () => [...peers.values()].filter((p) => p.channel?.readyState === "open");

  async function sendChat(text) {
    if (!text) return 0;
    const to = dataPeers();
    await Promise.all(to.map((p) => GstMeshData.send(p.channel, text).catch((e) => dataError(p, e.message))));
    showChat(mesh.id, text);
    return to.length;
  }

  /** Sends a file (a File, or a name and bytes) to every member. */
  async function sendFile(fileOrName, data) {
    const name = typeof fileOrName === "string" ? fileOrName : fileOrName.name;
    const mime = typeof fileOrName === "string" ? "" : fileOrName.type;
    const bytes = typeof fileOrName === "string" ? toBytes(data) : new Uint8Array(await fileOrName.arrayBuffer());
    const header = JSON.stringify({ type: "file", id: crypto.randomUUID(), name, size: bytes.length, mime });
    const to = dataPeers();
    await Promise.all(
      to.map(async (p) => {
        const view = { from: mesh.id, to: p.id, name, size: bytes.length, mime, bytes: 0, done: false, sha256: null };
        mesh.files.push(view);
        const entry = fileRow(view);
        entry.parts.push(bytes);
        try {
          await GstMeshData.send(p.channel, header);
          for (let off = 0; off < bytes.length; off += FILE_PIECE) {
            const piece = bytes.subarray(off, off + FILE_PIECE);
            await GstMeshData.send(p.channel, piece);
            view.bytes += piece.length;
            entry.show();
          }
          await finish(entry);
        } catch (e) {
          dataError(p, `sending "${name}": ${e.message}`);
        }
      }),
    );
    return to.length;
  }

  // a file goes as binary messages of this size (a pipeline's data_src
  // gets one buffer each)
  const FILE_PIECE = 64 * 1024;

  function toBytes(data) {
    if (typeof data === "string") return new TextEncoder().encode(data);
    if (data instanceof Uint8Array) return data;
    if (data instanceof ArrayBuffer) return new Uint8Array(data);
    if (Array.isArray(data)) return Uint8Array.from(data);
    throw new TypeError("file bytes: a string, an array of bytes, an ArrayBuffer or a Uint8Array");
  }

  /** A received or sent file's bytes, base64 (for tests). */
  async function fileBytes(index) {
    const view = mesh.files[index];
    const entry = [...fileList.children].map((r) => r._entry).find((e) => e?.view === view);
    if (!entry) return null;
    const buf = new Uint8Array(await new Blob(entry.parts).arrayBuffer());
    let bin = "";
    for (let i = 0; i < buf.length; i += 0x8000) bin += String.fromCharCode(...buf.subarray(i, i + 0x8000));
    return btoa(bin);
  }

  // ---- for tests and the console ----

  /** Per remote peer: what its connection received and sent. */
  async function stats() {
    const out = {};
    for (const [id, p] of peers) {
      const s = {
        state: p.pc?.connectionState ?? null,
        framesDecoded: 0,
        frameWidth: 0,
        frameHeight: 0,
        audioPacketsReceived: 0,
        totalSamplesReceived: 0,
        framesEncoded: 0,
        audioPacketsSent: 0,
      };
      out[id] = s;
      if (!p.pc) continue;
      const report = await p.pc.getStats();
      report.forEach((r) => {
        if (r.type === "inbound-rtp" && r.kind === "video") {
          s.framesDecoded += r.framesDecoded ?? 0;
          s.frameWidth = r.frameWidth ?? s.frameWidth;
          s.frameHeight = r.frameHeight ?? s.frameHeight;
        } else if (r.type === "inbound-rtp" && r.kind === "audio") {
          s.audioPacketsReceived += r.packetsReceived ?? 0;
          s.totalSamplesReceived += r.totalSamplesReceived ?? 0;
        } else if (r.type === "outbound-rtp" && r.kind === "video") {
          s.framesEncoded += r.framesEncoded ?? 0;
        } else if (r.type === "outbound-rtp" && r.kind === "audio") {
          s.audioPacketsSent += r.packetsSent ?? 0;
        }
      });
    }
    return out;
  }

  window.meshControl = {
    start,
    join,
    leave,
    stats,
    pc: (id) => peers.get(id)?.pc ?? null,
    sendChat,
    sendFile,
    fileBytes,
    setDataHook: (fn) => (dataHook = fn),
    // one message to one peer, framed (resolves once it is all queued)
    sendData: (id, message) => GstMeshData.send(peers.get(id).channel, message),
    // one SCTP message as it is, no framing (for tests of bad input)
    sendRaw: (id, bytes) => peers.get(id)?.channel?.send(Uint8Array.from(bytes)),
  };

  // ---- wiring ----

  startButton.addEventListener("click", () => start().catch(() => {}));
  joinButton.addEventListener("click", () => join().catch(() => {}));
  leaveButton.addEventListener("click", leave);
  const chatSend = () => {
    const text = chatInput.value;
    chatInput.value = "";
    sendChat(text).catch((e) => log(`chat: ${e.message}`));
  };
  sendButton.addEventListener("click", chatSend);
  chatInput.addEventListener("keydown", (e) => {
    if (e.key === "Enter") chatSend();
  });
  fileInput.addEventListener("change", () => {
    for (const f of fileInput.files) sendFile(f).catch((e) => log(`file: ${e.message}`));
    fileInput.value = "";
  });
  roomInput.addEventListener("keydown", (e) => {
    if (e.key === "Enter") join().catch(() => {});
  });
  showStatus();

  // The client script comes from the signalling server, like the seed's
  // /socket.io/socket.io.js.
  const script = document.createElement("script");
  script.src = new URL("/socket.io/socket.io.js", SERVER ?? location.href).href;
  script.onload = () => {
    connect();
    if (AUTO) join().catch(() => {});
  };
  script.onerror = () => {
    mesh.signalling = "failed";
    mesh.errors.push({ event: "load", message: `cannot load ${script.src}` });
    statusText.textContent = `cannot load the Socket.IO client from ${script.src}`;
  };
  document.head.append(script);
})();
