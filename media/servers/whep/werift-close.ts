import { RTCDtlsTransport } from 'werift';

/**
 * Stops werift's DTLS flight retransmissions when a peer is closed (werift 0.24.x).
 *
 * werift resends a handshake flight until the peer's next flight arrives: Flight.transmit loops
 * `await setTimeout(0.5 s * n)` up to 10 times (0.5 + 1 + ... + 5.5 s = 33 s) and stops only when
 * `dtls.flight >= nextFlight`. Closing the peer (RTCPeerConnection.close -> RTCDtlsTransport.stop) does not
 * end that loop: a peer closed before the other side's last flight arrived (the client's Flight5 when
 * the server's Finished is still on its way; the server's Flight4 when a viewer leaves mid-handshake;
 * RTCDtlsTransport.stop does not even close its DtlsSocket) kept sending to a closed socket and kept its DTLS context, its transport and the peer they reach for
 * up to 33 s; a test process lingered ~33 s after its last peer closed. (The ICE consent-expiry timer
 * is not the cause in werift 0.24.4: Connection.close() clears it.)
 *
 * How: RTCDtlsTransport.stop (exported, looked up on the prototype) first marks the handshake as past every flight, so the loop ends (FINISHED,
 * no resend) at its next wake-up. The timer already started still runs out (at most the current step,
 * 0.5-5.5 s), then nothing is kept. If werift's internals differ (no `dtls.flight` number) nothing
 * changes. Installed once per process; returns whether it is installed.
 */
const PAST_EVERY_FLIGHT = 1 << 30;
let installed = false;

/** Close calls that ended a handshake's retransmissions (tests check that the fix still applies). */
export const flightsStoppedAtClose = { count: 0 };

export function stopFlightsAtClose(): boolean {
  if (installed) return true;
  const proto = (RTCDtlsTransport as unknown as { prototype?: { stop?: () => Promise<void> } }).prototype;
  const stop = proto?.stop;
  if (!proto || typeof stop !== 'function') return false;
  proto.stop = function (this: { dtls?: { dtls?: { flight?: unknown } } }) {
    // this.dtls: werift's DtlsSocket (undefined before DTLS started); its .dtls: the handshake context.
    const ctx = this.dtls?.dtls;
    if (ctx && typeof ctx.flight === 'number' && ctx.flight < PAST_EVERY_FLIGHT) {
      ctx.flight = PAST_EVERY_FLIGHT;
      flightsStoppedAtClose.count++;
    }
    return stop.call(this);
  };
  installed = true;
  return true;
}
