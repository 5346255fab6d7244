/**
 * Reads what the peer needs from an SDP offer (RFC 8866 / JSEP): the audio m-section's mid, direction and
 * codecs, and whether a data channel (SCTP) section is present.
 */

/** One `a=rtpmap` entry: payload type → `name/clockRate[/channels]`. */
export interface SdpCodec {
  payloadType: number;
  name: string;
  clockRate: number;
  channels: number;
}

export type SdpDirection = "sendrecv" | "sendonly" | "recvonly" | "inactive";

/** The offer's first audio m-section, or null when there is none. */
export interface AudioSection {
  mid: string;
  direction: SdpDirection;
  codecs: SdpCodec[];
}

export interface OfferSummary {
  audio: AudioSection | null;
  dataChannel: boolean;
}

/** Splits an SDP into sections; returns null when the text is not SDP at all (no `v=0`, no m-line). */
export function inspectOffer(sdp: string): OfferSummary | null {
  const lines = sdp.split(/\r?\n/).map((line) => line.trim());
  if (lines[0] !== "v=0") return null;
  const sections: string[][] = [];
  let sessionDirection: SdpDirection = "sendrecv";
  for (const line of lines) {
    if (line.startsWith("m=")) sections.push([line]);
    else if (sections.length > 0) sections.at(-1)?.push(line);
    else if (/^a=(sendrecv|sendonly|recvonly|inactive)$/.test(line))
      sessionDirection = line.slice(2) as SdpDirection;
  }
  let audio: AudioSection | null = null;
  let dataChannel = false;
  for (const [mLine = "", ...attributes] of sections) {
    if (mLine.startsWith("m=application") && mLine.includes("webrtc-datachannel")) dataChannel = true;
    // A port of 0 marks a rejected or removed section (RFC 8866 §5.14).
    if (!mLine.startsWith("m=audio") || audio || /^m=audio 0 /.test(mLine)) continue;
    let mid = "";
    let direction = sessionDirection;
    const codecs: SdpCodec[] = [];
    for (const line of attributes) {
      if (line.startsWith("a=mid:")) mid = line.slice(6);
      else if (/^a=(sendrecv|sendonly|recvonly|inactive)$/.test(line))
        direction = line.slice(2) as SdpDirection;
      else {
        const match = /^a=rtpmap:(\d+) ([^/]+)\/(\d+)(?:\/(\d+))?/.exec(line);
        if (match)
          codecs.push({
            payloadType: Number(match[1]),
            name: (match[2] ?? "").toLowerCase(),
            clockRate: Number(match[3]),
            channels: Number(match[4] ?? 1),
          });
      }
    }
    // Static payload types need no rtpmap (RFC 3551): 0 is PCMU/8000, 8 is PCMA/8000.
    const format = mLine.split(" ").slice(3);
    for (const [pt, name] of [
      [0, "pcmu"],
      [8, "pcma"],
    ] as const)
      if (format.includes(String(pt)) && !codecs.some((c) => c.payloadType === pt))
        codecs.push({ payloadType: pt, name, clockRate: 8000, channels: 1 });
    audio = { mid, direction, codecs };
  }
  return { audio, dataChannel };
}
