/**
 * Size limits that validation enforces. They keep a config small enough to ship to every SDK and
 * keep evaluation time bounded whatever a person types into the admin API.
 */

/** Longest flag key, segment key, environment name, variant name or rule id, in characters. */
export const MAX_KEY_LENGTH = 128;
/** Longest salt, in characters. */
export const MAX_SALT_LENGTH = 128;
/** Longest description, in characters. */
export const MAX_DESCRIPTION_LENGTH = 2_000;
/** Most variants per flag. */
export const MAX_VARIANTS = 100;
/** Longest variant value once written as JSON, in characters. */
export const MAX_VARIANT_VALUE_LENGTH = 32_768;
/** Deepest nesting of an object variant value. */
export const MAX_JSON_DEPTH = 32;
/** Most environments per flag document. */
export const MAX_ENVIRONMENTS = 64;
/** Most rules per flag per environment. */
export const MAX_RULES = 200;
/** Most slices in one split. */
export const MAX_SPLIT_SLICES = 100;
/** Most per-unit overrides per flag per environment. */
export const MAX_OVERRIDES = 10_000;
/** Longest unit id accepted as an override key, in characters. */
export const MAX_UNIT_LENGTH = 256;
/** Deepest nesting of all / any / not in one condition. */
export const MAX_CONDITION_DEPTH = 16;
/** Most condition nodes (attribute tests, combinators, segment references) in one condition. */
export const MAX_CONDITION_NODES = 500;
/** Longest attribute path (`user.address.country`), in characters. */
export const MAX_ATTRIBUTE_PATH_LENGTH = 256;
/** Most entries in the value list of `in` / `not_in`. */
export const MAX_LIST_LENGTH = 10_000;
/** Longest string operand of a condition, in characters. */
export const MAX_STRING_VALUE_LENGTH = 1_024;
/** Most segment references (`{ "segment": key }`) in one condition tree: a rule's `when` or a segment's. */
export const MAX_SEGMENT_REFERENCES = 16;
/**
 * Deepest chain of segments: a rule refers to a segment, which refers to another, and so on; this many
 * segments at most, the rule not counted.
 */
export const MAX_SEGMENT_DEPTH = 4;
/**
 * Most condition nodes one flag evaluation may visit: every rule's condition of the flag in one environment,
 * plus every segment they reach counted once each (a segment is evaluated at most once per evaluation).
 * The same budget applies to one segment with the segments it reaches.
 */
export const MAX_EVALUATION_NODES = 2_000;
/** Longest `matches` pattern, in characters. */
export const MAX_REGEX_LENGTH = 256;
/** Longest attribute string a `matches` regex is run on, in characters; longer strings do not match. */
export const MAX_REGEX_INPUT_LENGTH = 512;
/**
 * Largest compiled RE2 program of one `matches` pattern, in instructions. A match runs in at most
 * program size × input length steps; counted repeats are expanded (`[a-z]{1,50}` is about 100 instructions).
 */
export const MAX_REGEX_PROGRAM_SIZE = 100;
/**
 * Most RE2 instructions, summed over the `matches` patterns, that one flag evaluation may run: the flag's
 * rules plus every segment they reach counted once (and likewise one segment with the segments it reaches).
 * With inputs of at most MAX_REGEX_INPUT_LENGTH characters this keeps the regex work of one evaluation
 * under about 51,000 steps (100 × 513).
 */
export const MAX_EVALUATION_REGEX_PROGRAM = 100;
