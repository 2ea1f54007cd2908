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
/** Longest `matches` pattern, in characters. */
export const MAX_REGEX_LENGTH = 256;
/**
 * Most backtracking steps a `matches` pattern may need, as estimated by the static checker on an input of
 * MAX_REGEX_INPUT_LENGTH characters (a few milliseconds at worst).
 */
export const MAX_REGEX_BACKTRACK_ESTIMATE = 1_000_000;
/** Longest attribute string a `matches` regex is run on, in characters; longer strings do not match. */
export const MAX_REGEX_INPUT_LENGTH = 512;
