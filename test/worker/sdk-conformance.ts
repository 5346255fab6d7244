/**
 * Type-level conformance of the worker's session schemas with the pinned `openai` SDK: checked by `tsc -p
 * worker/tsconfig.json` (the `typecheck` step), never run. When a new `openai` types a session key that
 * `worker/schema/session.ts` neither accepts nor lists in {@link RefusedByPolicy}, the `Conforms` lines below stop
 * compiling and the error names the key's dotted path (e.g. `"audio.input.transcription.delay"`).
 *
 * Keys are compared on the schemas' output types (a `jsonObject` takes any record as input), not values: the schema may narrow a value (one `output_modalities`, built-in voices, 24 kHz),
 * but a key the SDK can send must never be an "unknown field".
 */

import type { CallCreateParams } from "openai/resources/realtime/calls";
import type { ClientSecretCreateParams } from "openai/resources/realtime/client-secrets";
import type {
  RealtimeSessionCreateRequest,
  RealtimeTranscriptionSessionCreateRequest,
} from "openai/resources/realtime/realtime";
import type * as v from "valibot";
import type {
  ClientSecretRequest,
  RealtimeSession,
  TranscriptionSession,
} from "../../worker/schema/session.ts";

/**
 * Dotted paths of SDK keys the schema leaves out on purpose, each answered by a 403 `policy_violation` naming it.
 * Empty today: every key is parsed, and the policy refuses what a deployment did not opt into (`reasoning` without
 * `ALLOW_CLIENT_REASONING`, `prompt` without `ALLOW_STORED_PROMPTS`, MCP tools always).
 */
type RefusedByPolicy = never;

type Depth = [never, 0, 1, 2, 3, 4, 5, 6];

/** The object members of `T` (arrays give their elements; primitives, `unknown` and functions give nothing). */
type Objects<T> = T extends string | number | boolean | bigint | symbol // also `string & {}` (open enums)
  ? never
  : T extends readonly (infer E)[]
    ? Objects<E>
    : T extends object
      ? T
      : never;

/** Every key of any member of a union. */
type AllKeys<T> = T extends unknown ? keyof T & string : never;

/** The type at `K` in any member of a union that has it. */
type At<T, K extends string> = T extends unknown ? (K extends keyof T ? T[K] : never) : never;

/** Dotted paths of keys in `Sdk` missing from `Ours`, recursing into objects up to depth `D`. */
type Missing<Sdk, Ours, Prefix extends string = "", D extends number = 6> = [D] extends [never]
  ? never
  : {
      [K in AllKeys<Objects<Sdk>>]: string extends AllKeys<Objects<Ours>>
        ? never // an open record (metadata, variables, MCP tools) accepts any key
        : K extends AllKeys<Objects<Ours>>
          ? Missing<At<Objects<Sdk>, K>, At<Objects<Ours>, K>, `${Prefix}${K}.`, Depth[D]>
          : `${Prefix}${K}`;
    }[AllKeys<Objects<Sdk>>];

/** Compiles only when `T` is `never`; otherwise the error message shows the offending paths. */
type Conforms<T extends never> = T;

export type RealtimeKeys = Conforms<
  Exclude<Missing<RealtimeSessionCreateRequest, v.InferOutput<typeof RealtimeSession>>, RefusedByPolicy>
>;
export type TranscriptionKeys = Conforms<
  Exclude<
    Missing<RealtimeTranscriptionSessionCreateRequest, v.InferOutput<typeof TranscriptionSession>>,
    RefusedByPolicy
  >
>;
export type ClientSecretKeys = Conforms<
  Exclude<
    Missing<ClientSecretCreateParams, v.InferOutput<typeof ClientSecretRequest>>,
    `session.${RefusedByPolicy}`
  >
>;
export type CallSessionKeys = Conforms<
  Exclude<
    Missing<NonNullable<CallCreateParams["session"]>, v.InferOutput<typeof RealtimeSession>>,
    RefusedByPolicy
  >
>;

// The check itself must be able to fail: a schema without `reasoning` is caught.
type WithoutReasoning = Omit<v.InferOutput<typeof RealtimeSession>, "reasoning">;
export type CatchesAMissingKey = Conforms<
  // @ts-expect-error "reasoning" is missing from WithoutReasoning
  Missing<RealtimeSessionCreateRequest, WithoutReasoning>
>;
