/**
 * Cloudflare Turnstile, verified server-side (siteverify): secret + token + the client's IP. A token is valid for
 * 300 s and once (siteverify answers `timeout-or-duplicate` on reuse); the `hostname` it was solved on must be the
 * page's. Docs: developers.cloudflare.com/turnstile/get-started/server-side-validation/.
 */
import * as v from "valibot";

const SiteverifyReply = v.object({
  success: v.boolean(),
  hostname: v.optional(v.string()),
  "error-codes": v.optional(v.array(v.string())),
});

/** The outcome: ok, or why not (siteverify's error codes, `hostname_mismatch`, `siteverify_unreachable`). */
export type TurnstileResult = { ok: true } | { ok: false; reason: string };

/** Longest token Cloudflare issues is 2048 characters; siteverify refuses longer ones anyway. */
const MAX_TOKEN_CHARS = 2_048;

/**
 * Verifies `token` at `verifyUrl` and checks that it was solved on `hostname`. Network failures and unreadable
 * replies are refusals (fail closed), reported as `siteverify_unreachable`.
 */
export async function verifyTurnstile(options: {
  token: string;
  secret: string;
  verifyUrl: string;
  hostname: string;
  remoteIp: string | undefined;
  timeoutMs: number;
}): Promise<TurnstileResult> {
  if (options.token === "" || options.token.length > MAX_TOKEN_CHARS)
    return { ok: false, reason: "invalid-input-response" };
  const form = new FormData();
  form.set("secret", options.secret);
  form.set("response", options.token);
  if (options.remoteIp !== undefined) form.set("remoteip", options.remoteIp);
  let reply: v.InferOutput<typeof SiteverifyReply>;
  try {
    const res = await fetch(options.verifyUrl, {
      method: "POST",
      body: form,
      signal: AbortSignal.timeout(options.timeoutMs),
    });
    const parsed = v.safeParse(SiteverifyReply, await res.json());
    if (!parsed.success) return { ok: false, reason: "siteverify_unreachable" };
    reply = parsed.output;
  } catch {
    return { ok: false, reason: "siteverify_unreachable" };
  }
  if (!reply.success) return { ok: false, reason: reply["error-codes"]?.join(",") || "rejected" };
  if (reply.hostname !== options.hostname) return { ok: false, reason: "hostname_mismatch" };
  return { ok: true };
}
