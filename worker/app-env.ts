import type { Config } from "./config.ts";

/** Hono environment of the worker: the Workers bindings and what middleware hands to routes. */
export interface AppEnv {
  Bindings: Env;
  Variables: {
    /** The deployment's configuration (its session policy included), parsed once per isolate. */
    config: Config;
  };
}
