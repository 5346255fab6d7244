import { randomBytes } from "node:crypto";

const ALPHABET = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789";

/**
 * Returns an OpenAI-looking identifier: `prefix` + `_` + 22 random base-62 characters (~131 bits), e.g.
 * `newId("rtc")` → `rtc_Q2x…`. Prefixes used by the realtime API: `ek`, `sess`, `rtc`, `event`, `item`, `resp`.
 */
export function newId(prefix: string, length = 22): string {
  const bytes = randomBytes(length);
  let id = `${prefix}_`;
  // 256 is not a multiple of 62; the slight bias is irrelevant for identifiers that only need to be unique.
  for (const byte of bytes) id += ALPHABET[byte % ALPHABET.length];
  return id;
}
