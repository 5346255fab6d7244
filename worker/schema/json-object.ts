import * as v from "valibot";

function isJsonObject(input: unknown): input is Record<string, unknown> {
  return typeof input === "object" && input !== null && !Array.isArray(input);
}

/**
 * `v.strictObject(entries)` that also refuses arrays: Valibot's object schemas accept `[]` (its `typeof` is
 * "object") and would turn it into `{}`. Unknown keys are issues naming the key, as with `strictObject`.
 * (Options of a `v.variant` must stay plain `strictObject`s; the discriminator already refuses arrays there.)
 */
export function jsonObject<const TEntries extends v.ObjectEntries>(entries: TEntries) {
  return v.pipe(
    v.custom<Record<string, unknown>>(
      isJsonObject,
      (issue) => `Invalid type: Expected Object but received ${issue.received}`,
    ),
    v.strictObject(entries),
  );
}
