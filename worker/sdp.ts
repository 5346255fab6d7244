import { Problem } from "./problem.ts";

/** Largest SDP offer accepted, bytes. Browser offers with audio + data channel are 2–8 KB. */
export const MAX_OFFER_BYTES = 32 * 1024;

/**
 * Checks an SDP offer before anything is sent upstream: at most {@link MAX_OFFER_BYTES} (else 413
 * `offer_too_large`), starts with `v=0`, and has an `m=audio` section (OpenAI fails the call with `invalid_offer`
 * without one) and an `m=application` section (the `oai-events` data channel): else 400 `invalid_offer`.
 * Returns the offer unchanged.
 */
export function checkOffer(sdp: string): string {
  if (new TextEncoder().encode(sdp).length > MAX_OFFER_BYTES)
    throw new Problem("offer_too_large", { detail: `At most ${MAX_OFFER_BYTES} bytes` });
  const problems: string[] = [];
  if (!/^v=0\r?$/m.test(sdp.split("\n", 1)[0] ?? "")) problems.push("does not start with v=0");
  if (!/^m=audio /m.test(sdp)) problems.push("has no m=audio section");
  if (!/^m=application /m.test(sdp))
    problems.push("has no m=application section (the oai-events data channel)");
  if (problems.length > 0)
    throw new Problem("invalid_offer", {
      detail: `The offer ${problems.join(", ")}`,
      errors: problems.map((detail) => ({ pointer: "/sdp", detail })),
    });
  return sdp;
}
