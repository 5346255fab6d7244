/**
 * RTP (RFC 3550) framing for the peer's audio track. node-datachannel's `Track` sends and receives whole RTP
 * packets (SRTP is applied underneath); the peer writes the 12-byte header itself and reads the payload of what
 * the browser sends. RTCP shares the port (rtcp-mux, RFC 5761) and is told apart by its packet type.
 */

/** A parsed RTP packet; `payload` is a view into the received buffer. */
export interface RtpPacket {
  payloadType: number;
  marker: boolean;
  sequence: number;
  timestamp: number;
  ssrc: number;
  payload: Uint8Array;
}

/** Builds an RTP packet (version 2, no CSRC, no extension). `timestamp` and `ssrc` are taken modulo 2^32. */
export function buildRtp(header: Omit<RtpPacket, "payload">, payload: Uint8Array): Uint8Array {
  const packet = new Uint8Array(12 + payload.length);
  const view = new DataView(packet.buffer);
  packet[0] = 0x80;
  packet[1] = (header.marker ? 0x80 : 0) | (header.payloadType & 0x7f);
  view.setUint16(2, header.sequence & 0xffff);
  view.setUint32(4, header.timestamp >>> 0);
  view.setUint32(8, header.ssrc >>> 0);
  packet.set(payload, 12);
  return packet;
}

/**
 * Parses an RTP packet. Returns null for RTCP (second byte 192–223 under rtcp-mux, RFC 5761 §4), a version other
 * than 2, or a truncated packet. Skips CSRCs and the header extension and strips padding.
 */
export function parseRtp(packet: Uint8Array): RtpPacket | null {
  if (packet.length < 12 || packet[0] === undefined || packet[1] === undefined) return null;
  if (packet[0] >> 6 !== 2) return null;
  if (packet[1] >= 192 && packet[1] <= 223) return null;
  const view = new DataView(packet.buffer, packet.byteOffset, packet.byteLength);
  let offset = 12 + (packet[0] & 0x0f) * 4;
  if (packet[0] & 0x10) {
    if (offset + 4 > packet.length) return null;
    offset += 4 + view.getUint16(offset + 2) * 4;
  }
  let end = packet.length;
  if (packet[0] & 0x20) end -= packet[end - 1] ?? 0;
  if (offset > end) return null;
  return {
    payloadType: packet[1] & 0x7f,
    marker: (packet[1] & 0x80) !== 0,
    sequence: view.getUint16(2),
    timestamp: view.getUint32(4),
    ssrc: view.getUint32(8),
    payload: packet.subarray(offset, end),
  };
}
