/**
 * Valibot schemas for the string forms of the worker's variables (`[vars]`, `wrangler dev --var NAME:value`,
 * secrets), shared by `config.ts` and `guard/guard-config.ts` so every variable of one kind parses alike.
 */
import * as v from "valibot";

/** A comma-separated list: items trimmed, empty items dropped (`"a, b,"` → `["a", "b"]`). */
export const list = v.pipe(
  v.string(),
  v.transform((s) =>
    s
      .split(",")
      .map((item) => item.trim())
      .filter((item) => item !== ""),
  ),
);

/** A whole decimal number in `[min, max]`, surrounding white space allowed. */
export const int = (min: number, max: number) =>
  v.pipe(v.string(), v.regex(/^\s*\d+\s*$/), v.transform(Number), v.minValue(min), v.maxValue(max));
