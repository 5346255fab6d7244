/**
 * Downmixes one render quantum to mono: the mean of the channels, with NaN and ±∞ replaced by 0 so that a broken
 * source cannot poison the resampler's filter state.
 */

/**
 * Writes the mean of `channels` (each at least `mono.length` samples) into `mono`.
 * @returns how many non-finite samples were replaced by 0.
 */
export function downmixInto(channels: readonly Float32Array[], mono: Float32Array): number {
  const n = mono.length;
  let nonFinite = 0;
  mono.fill(0);
  // Indexed loops: this runs on the audio thread every 128 samples and must not allocate an iterator.
  for (let c = 0; c < channels.length; c++) {
    const ch = channels[c];
    for (let i = 0; i < n; i++) {
      const v = ch[i];
      // `v - v` is 0 exactly for finite v.
      if (v - v === 0) mono[i] += v;
      else nonFinite++;
    }
  }
  if (channels.length > 1) {
    const g = 1 / channels.length;
    for (let i = 0; i < n; i++) mono[i] *= g;
  }
  return nonFinite;
}
