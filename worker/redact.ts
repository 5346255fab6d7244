/**
 * Removes secrets from text before it is logged: the configured key wherever it appears, and anything shaped like
 * an OpenAI key or client secret (`sk-…`, `ek_…`), since upstream error messages quote key fragments.
 */
export function redact(text: string, secrets: ReadonlyArray<string> = []): string {
  let out = text;
  for (const secret of secrets)
    if (typeof secret === "string" && secret.length >= 4) out = out.replaceAll(secret, "[redacted]");
  return out.replace(/\b(sk-|ek_)[A-Za-z0-9_*.-]{4,}/g, "$1[redacted]");
}
