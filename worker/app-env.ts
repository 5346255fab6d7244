import type { Policy } from "./policy.ts";

/** Hono environment of the worker: the Workers bindings and what middleware hands to routes. */
export interface AppEnv {
  Bindings: Env;
  Variables: {
    /** The deployment's policy, parsed from the variables once per isolate. */
    policy: Policy;
  };
}
