/**
 * What the worker accepts from OpenAI. Replies are input too: a reply that does not match becomes a 502
 * `upstream_error`, never a crash and never a half-formed answer to the client.
 */
import * as v from "valibot";

/**
 * A 200 reply of `POST /realtime/client_secrets`: `{value, expires_at, session}` (flat). The session is kept as an
 * opaque object (it is OpenAI's effective config, answered as is); {@link ReportedSession} reads fields from it.
 */
export const MintedSecret = v.object({
  value: v.pipe(v.string(), v.minLength(1), v.maxLength(4_096)),
  expires_at: v.pipe(v.number(), v.integer(), v.minValue(0)),
  session: v.record(v.string(), v.unknown()),
});
/** A validated minted secret. */
export type MintedSecret = v.InferOutput<typeof MintedSecret>;

const lenient = <T extends v.GenericSchema>(schema: T) =>
  v.optional(v.fallback(v.optional(schema), undefined));

const Format = v.looseObject({ type: v.string(), rate: lenient(v.number()) });

/**
 * The fields of OpenAI's effective session that the legacy (beta-shaped) answer reports. Each field is read
 * leniently: a field OpenAI omits or shapes differently is `undefined`, and the requested value is used instead.
 */
export const ReportedSession = v.looseObject({
  id: lenient(v.string()),
  model: lenient(v.string()),
  output_modalities: lenient(v.array(v.string())),
  instructions: lenient(v.string()),
  max_output_tokens: lenient(v.union([v.number(), v.literal("inf")])),
  tool_choice: lenient(v.union([v.string(), v.looseObject({ type: v.string(), name: v.string() })])),
  tools: lenient(
    v.array(
      v.looseObject({
        type: v.string(),
        name: v.string(),
        description: lenient(v.string()),
        parameters: lenient(v.record(v.string(), v.unknown())),
      }),
    ),
  ),
  audio: lenient(
    v.looseObject({
      input: lenient(
        v.looseObject({
          format: lenient(Format),
          transcription: lenient(
            v.nullable(
              v.looseObject({
                model: lenient(v.string()),
                language: lenient(v.string()),
                prompt: lenient(v.string()),
              }),
            ),
          ),
          noise_reduction: lenient(v.nullable(v.looseObject({ type: v.string() }))),
          turn_detection: lenient(v.nullable(v.looseObject({ type: v.string() }))),
        }),
      ),
      output: lenient(
        v.looseObject({
          format: lenient(Format),
          voice: lenient(v.union([v.string(), v.looseObject({ id: v.string() })])),
          speed: lenient(v.number()),
        }),
      ),
    }),
  ),
});
/** The readable part of OpenAI's effective session. */
export type ReportedSession = v.InferOutput<typeof ReportedSession>;

/** OpenAI's error envelope (`{"error": {type, code, message, param}}`), read only to log and classify it. */
export const UpstreamError = v.object({
  error: v.object({
    type: v.optional(v.nullable(v.string())),
    code: v.optional(v.nullable(v.string())),
    message: v.optional(v.nullable(v.string())),
  }),
});
