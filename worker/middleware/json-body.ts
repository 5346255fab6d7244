import type { MiddlewareHandler } from "hono";
import type { AppEnv } from "../app-env.ts";
import { Problem } from "../problem.ts";

const JSON_TYPE = /^application\/json\s*(;|$)/i;

/**
 * Requires a JSON body: another content type is 415 `unsupported_media_type`, unparsable JSON is 400
 * `malformed_json`. The parsed body stays in Hono's body cache, so the validator after it reads it for free.
 */
export function jsonBody(): MiddlewareHandler<AppEnv> {
  return async function jsonBody(c, next) {
    const type = c.req.header("Content-Type") ?? "";
    if (!JSON_TYPE.test(type))
      throw new Problem("unsupported_media_type", { detail: "Send the body as application/json" });
    try {
      await c.req.json();
    } catch {
      throw new Problem("malformed_json");
    }
    await next();
  };
}
