/**
 * Whole-buffer sample-rate conversion of PCM16 with the project's `Resampler`: the filter's group delay is
 * skipped and its tail flushed, so output sample `j` is the input at `j / to` s and the result lasts exactly as
 * long as the input (`round(length × to / from)` samples).
 */
import { floatToPcm16, pcm16ToFloat } from "../../../worklet/dsp/pcm16.ts";
import { Resampler } from "../../../worklet/dsp/resampler.ts";

/**
 * @param pcm mono PCM16 at `from` Hz.
 * @param from, to rates in Hz, 8000–192000.
 * @throws RangeError for a rate out of range.
 */
export function resamplePcm16(pcm: Int16Array, from: number, to: number): Int16Array {
  if (from === to) return pcm.slice();
  const resampler = new Resampler(from, to);
  const want = Math.round((pcm.length * to) / from);
  const padding = Math.ceil((resampler.delaySamples * from) / to) + 2;
  const input = new Float32Array(pcm.length + padding);
  pcm16ToFloat(pcm, input);
  input.fill(0, pcm.length);
  const wide = resampler.process(input);
  const start = Math.round(resampler.delaySamples);
  return floatToPcm16(wide.subarray(start, start + want));
}
