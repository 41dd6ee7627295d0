/**
 * The accept queue of the media listeners (RTMP, and the HTTP port that carries HTTP-FLV / WS-FLV).
 *
 * Node listens with a backlog of 511 unless told otherwise. A join ramp (hundreds of viewers a
 * second, the bench's 800) on an event loop that is busy writing for a few hundred ms at a time fills
 * 511 queued connections quickly; past that the kernel drops the client's SYN (or its handshake ACK)
 * and the client tries again after 1 s, 3 s, 7 s, 15 s (Linux's SYN retransmit backoff). Those viewers
 * wait seconds before the server even sees them: issue 15's ladder measured TTFF p95 14.4 s at 5,600
 * HTTP-FLV viewers and 15,180 listen-queue overflows (`nstat TcpExtListenOverflows`) in one
 * 4,000 + 6,000 step pair, and a viewer that connects 7 s late has missed most of its measured window
 * (unhealthy although it was admitted). A larger queue costs a few hundred bytes of kernel memory per
 * queued connection and nothing while it is empty; the kernel caps it at net.core.somaxconn (4096 by
 * default since Linux 5.4).
 */
export const LISTEN_BACKLOG = 4096;
