/**
 * A WHIP (sendonly H.264) SDP offer with ICE credentials and a made-up fingerprint: the server
 * answers it, and no peer ever completes it (no candidates). For tests of offers that hold a
 * connecting place until they time out.
 */
const fingerprint = Array.from({ length: 32 }, (_, i) => ((i * 7) % 256).toString(16).padStart(2, '0').toUpperCase()).join(':');

export const NEVER_CONNECTING_WHIP_OFFER = [
  'v=0', 'o=- 0 0 IN IP4 0.0.0.0', 's=-', 't=0 0', 'm=video 9 UDP/TLS/RTP/SAVPF 96', 'c=IN IP4 0.0.0.0', 'a=rtpmap:96 H264/90000',
  'a=fmtp:96 packetization-mode=1;profile-level-id=42e01f', 'a=mid:0', 'a=sendonly', 'a=rtcp-mux', 'a=setup:actpass', 'a=ice-ufrag:abcd',
  'a=ice-pwd:0123456789012345678901', `a=fingerprint:sha-256 ${fingerprint}`, '',
].join('\r\n');
