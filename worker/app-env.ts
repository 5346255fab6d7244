import type { Identity } from "./auth/identity.ts";
import type { Config } from "./config.ts";
import type { GuardConfig } from "./guard/guard-config.ts";
import type { RealtimeSession } from "./schema/session.ts";

/** Hono environment of the worker: the Workers bindings and what middleware hands to routes. */
export interface AppEnv {
  Bindings: Env;
  Variables: {
    /** The deployment's configuration (its session policy included), parsed once per isolate. */
    config: Config;
    /** Who is calling (set by `authenticate`). */
    identity: Identity;
    /** The access and call-guard configuration (set by `authenticate`). */
    guard: GuardConfig;
    /** The session a created call was started with (set by the calls route, read by the call guard). */
    callSession?: RealtimeSession;
  };
}
