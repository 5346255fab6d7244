import type { Identity } from "./auth/identity.ts";
import type { GuardConfig } from "./guard/guard-config.ts";
import type { Policy } from "./policy.ts";
import type { RealtimeSession } from "./schema/session.ts";

/** Hono environment of the worker: the Workers bindings and what middleware hands to routes. */
export interface AppEnv {
  Bindings: Env;
  Variables: {
    /** The deployment's policy, parsed from the variables once per isolate. */
    policy: Policy;
    /** Who is calling (set by `authenticate`). */
    identity: Identity;
    /** The access and call-guard configuration (set by `authenticate`). */
    guard: GuardConfig;
    /** The session a created call was started with (set by the calls route, read by the call guard). */
    callSession?: RealtimeSession;
  };
}
