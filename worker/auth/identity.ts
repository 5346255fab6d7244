/**
 * Who is calling, as the budgets and the call guard see it: the JWT `sub` (an end user of the site), else the
 * client key (a server-side caller), else the browser's `CF-Connecting-IP` (set by Cloudflare's edge).
 */
export interface Identity {
  /** How the request was authenticated. */
  kind: "jwt" | "key" | "origin";
  /**
   * Stable key for budgets and call ownership: `sub:<sub>`, `key:<first 16 hex of SHA-256(key)>` or
   * `ip:<address>`. Never the key itself.
   */
  key: string;
}

/** SHA-256 of `text`, lowercase hex. */
export async function sha256Hex(text: string): Promise<string> {
  const digest = await crypto.subtle.digest("SHA-256", new TextEncoder().encode(text));
  return [...new Uint8Array(digest)].map((byte) => byte.toString(16).padStart(2, "0")).join("");
}
