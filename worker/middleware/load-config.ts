import type { MiddlewareHandler } from "hono";
import type { AppEnv } from "../app-env.ts";
import { type Config, ConfigError, parseConfig } from "../config.ts";
import { Problem } from "../problem.ts";

// `env` is the same object for every request of an isolate, so the parse runs once per isolate.
const cache = new WeakMap<object, Config>();

/**
 * Parses the variables into `c.var.config` (once per isolate) and checks that the `OPENAI_API_KEY` secret is set.
 * A malformed variable or a missing secret answers 500 `server_misconfigured` (the variable is named in the log,
 * its value is not).
 */
export function loadConfig(): MiddlewareHandler<AppEnv> {
  return async function loadConfig(c, next) {
    let config = cache.get(c.env);
    if (config === undefined) {
      try {
        config = parseConfig(c.env);
      } catch (error) {
        if (!(error instanceof ConfigError)) throw error;
        console.error(error.message);
        throw new Problem("server_misconfigured");
      }
      cache.set(c.env, config);
    }
    if (typeof c.env.OPENAI_API_KEY !== "string" || c.env.OPENAI_API_KEY.trim() === "") {
      console.error(
        "The OPENAI_API_KEY secret is not set (wrangler secret put OPENAI_API_KEY, or .dev.vars)",
      );
      throw new Problem("server_misconfigured");
    }
    c.set("config", config);
    await next();
  };
}
