// onair WebRTC player (WHEP): POSTs an SDP offer to /live/{room}/whep?token=..., plays the answer's
// H.264 + Opus in a <video>, and DELETEs the session (its Location) when destroyed.
// playWhep(video, url) resolves to { kind: 'webrtc', pc, destroy() } once the video advances, and
// rejects (after closing everything) when WebRTC is missing, the server refuses, or nothing plays.

/** Waits for ICE gathering to finish (the server does not take trickled candidates), at most `ms`. */
function gatheringComplete(pc, ms) {
  if (pc.iceGatheringState === 'complete') return Promise.resolve();
  return new Promise((resolve) => {
    const timer = setTimeout(done, ms);
    function done() {
      clearTimeout(timer);
      pc.removeEventListener('icegatheringstatechange', check);
      resolve();
    }
    function check() {
      if (pc.iceGatheringState === 'complete') done();
    }
    pc.addEventListener('icegatheringstatechange', check);
  });
}

function waitForProgress(video, pc, timeoutMs) {
  return new Promise((resolve, reject) => {
    const start = video.currentTime;
    const timer = setTimeout(() => finish(new Error('no WebRTC playback progress')), timeoutMs);
    const onTime = () => {
      if (video.currentTime > start) finish();
    };
    const onState = () => {
      if (pc.connectionState === 'failed' || pc.connectionState === 'closed') finish(new Error(`WebRTC ${pc.connectionState}`));
    };
    function finish(err) {
      clearTimeout(timer);
      video.removeEventListener('timeupdate', onTime);
      pc.removeEventListener('connectionstatechange', onState);
      if (err) reject(err);
      else resolve();
    }
    video.addEventListener('timeupdate', onTime);
    pc.addEventListener('connectionstatechange', onState);
  });
}

export function webrtcSupported() {
  return typeof RTCPeerConnection === 'function' && typeof RTCRtpReceiver !== 'undefined'
    && (RTCRtpReceiver.getCapabilities?.('video')?.codecs ?? []).some((c) => /h264/i.test(c.mimeType));
}

export async function playWhep(video, url, { timeoutMs = 10000 } = {}) {
  if (!webrtcSupported()) throw new Error('this browser has no WebRTC H.264');
  const pc = new RTCPeerConnection({ bundlePolicy: 'max-bundle' });
  let location = null;
  let watchdog = null;
  const destroy = () => {
    clearInterval(watchdog);
    pc.close();
    if (video.srcObject) video.srcObject = null;
    if (location) fetch(new URL(location, new URL(url, document.baseURI)), { method: 'DELETE', keepalive: true }).catch(() => {});
    location = null;
    window.removeEventListener('pagehide', destroy);
  };
  // A closed tab ends its session at once (the server would notice the silence after 10 s).
  window.addEventListener('pagehide', destroy);
  try {
    pc.addTransceiver('video', { direction: 'recvonly' });
    pc.addTransceiver('audio', { direction: 'recvonly' });
    const media = new MediaStream();
    pc.addEventListener('track', (e) => media.addTrack(e.track));
    video.srcObject = media;
    await pc.setLocalDescription(await pc.createOffer());
    await gatheringComplete(pc, 1500);
    const res = await fetch(url, { method: 'POST', headers: { 'Content-Type': 'application/sdp' }, body: pc.localDescription.sdp });
    if (res.status !== 201) {
      const body = await res.json().catch(() => null);
      const err = new Error(`WHEP ${res.status}: ${body?.error?.message ?? res.statusText}`);
      err.status = res.status;
      throw err;
    }
    location = res.headers.get('Location');
    await pc.setRemoteDescription({ type: 'answer', sdp: await res.text() });
    const progress = waitForProgress(video, pc, timeoutMs);
    Promise.resolve(video.play()).catch(() => {});
    await progress;
    watchdog = watchFrames(video, pc);
  } catch (err) {
    destroy();
    throw err;
  }
  return { kind: 'webrtc', pc, destroy };
}

/**
 * A MediaStream's currentTime runs on with the wall clock when no frame arrives (an encoder that
 * dropped), unlike an MSE player's, which stops. Pages (and their stall checks) read currentTime,
 * so the video is paused while no frame is decoded for 2 s, and played again when frames return.
 */
function watchFrames(video, pc) {
  let last = -1;
  let still = 0;
  let pausedHere = false;
  return setInterval(async () => {
    let frames = 0;
    try {
      (await pc.getStats()).forEach((s) => {
        if (s.type === 'inbound-rtp' && s.kind === 'video') frames = s.framesDecoded ?? 0;
      });
    } catch {
      return;
    }
    if (frames !== last) {
      last = frames;
      still = 0;
      if (pausedHere && video.paused) Promise.resolve(video.play()).catch(() => {});
      pausedHere = false;
      return;
    }
    if (++still >= 4 && !video.paused) {
      pausedHere = true;
      video.pause();
    }
  }, 500);
}
