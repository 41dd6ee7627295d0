// Shows how far behind live the player is, measured in the browser, next to the page's status.
// WebRTC: the receiver's jitter-buffer delay plus half the round trip (RTCPeerConnection.getStats);
// HTTP-FLV / HLS: the media buffered ahead of the playhead. Neither counts the anchor's encoder
// and uplink, so it is a floor of glass-to-glass latency; the benchmark (npm run bench:webrtc) measures that.

/** One reading in ms, or null when there is nothing to measure yet. */
export async function measureLatency(video, handle) {
  if (handle?.kind === 'webrtc' && handle.pc) {
    const stats = await handle.pc.getStats();
    let jitter = null;
    let rtt = 0;
    stats.forEach((s) => {
      if (s.type === 'inbound-rtp' && s.kind === 'video' && s.jitterBufferEmittedCount > 0) {
        jitter = (s.jitterBufferDelay / s.jitterBufferEmittedCount) * 1000;
      }
      if (s.type === 'candidate-pair' && s.nominated && s.currentRoundTripTime !== undefined) rtt = s.currentRoundTripTime * 1000;
    });
    return jitter === null ? null : Math.round(jitter + rtt / 2);
  }
  const b = video.buffered;
  if (!b || b.length === 0) return null;
  return Math.max(0, Math.round((b.end(b.length - 1) - video.currentTime) * 1000));
}

/**
 * Updates a small label after `anchor` every second with the latest reading; returns stop().
 * The label is made here, so pages only call this.
 */
export function showLatency(video, handle, anchor) {
  const label = document.createElement('span');
  label.className = 'status';
  label.id = 'latency';
  anchor?.after(label);
  let stopped = false;
  const tick = async () => {
    if (stopped) return;
    const ms = await measureLatency(video, handle).catch(() => null);
    label.textContent = ms === null ? '' : `${handle.kind === 'webrtc' ? 'latency' : 'buffer'} ≈ ${ms} ms`;
    label.dataset.ms = ms === null ? '' : String(ms);
  };
  const timer = setInterval(tick, 1000);
  tick();
  return () => {
    stopped = true;
    clearInterval(timer);
    label.remove();
  };
}
