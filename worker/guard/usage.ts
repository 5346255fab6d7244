/**
 * Token usage as `response.done.response.usage` reports it (`input_tokens`, `output_tokens`, `total_tokens`,
 * `input_token_details {text_tokens, audio_tokens, cached_tokens, cached_tokens_details}`, `output_token_details
 * {text_tokens, audio_tokens}`), summed field by field. Unknown numeric fields are summed too, so a field OpenAI
 * adds later is metered without a code change; anything that is not a number or an object of numbers is ignored.
 */

/** A usage object: numbers, or nested objects of numbers. */
export interface Usage {
  [field: string]: number | Usage;
}

const MAX_DEPTH = 4;

/** `total + add`, field by field (a new object; neither argument is changed). */
export function addUsage(total: Usage, add: unknown, depth = 0): Usage {
  const out: Usage = { ...total };
  if (typeof add !== "object" || add === null || Array.isArray(add) || depth > MAX_DEPTH) return out;
  for (const [key, value] of Object.entries(add)) {
    const current = out[key];
    if (typeof value === "number" && Number.isFinite(value) && value >= 0)
      out[key] = (typeof current === "number" ? current : 0) + value;
    else if (typeof value === "object" && value !== null && !Array.isArray(value))
      out[key] = addUsage(typeof current === "object" ? current : {}, value, depth + 1);
  }
  return out;
}
