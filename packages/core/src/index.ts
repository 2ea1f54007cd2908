export type {
  CompiledConfig,
  CompiledFlag,
  CompiledHoldback,
  CompiledRule,
  CompiledSlice,
} from './compile.ts';
export { compileConfig, flattenFlag, inHoldback, OVERRIDE_RULE_ID } from './compile.ts';
export type { EvaluateOptions } from './evaluate.ts';
export { evaluate, evaluateAll } from './evaluate.ts';
export type { HashState } from './hash.ts';
export { bucket, bucketFromPrefix, hashToBucket, murmur3x86_32, saltPrefixState } from './hash.ts';
export * from './limits.ts';
export * from './model.ts';
export type { SplitChangePreview } from './preview.ts';
export { previewSplitChange } from './preview.ts';
export { BUCKETS_PER_PERCENT, bucketsToReach, REACH_DECIMALS, reachToBuckets } from './reach.ts';
export type { CompiledPattern, PatternResult } from './regex.ts';
export { checkRegexPattern, compilePattern } from './regex.ts';
export type { SemVer } from './semver.ts';
export { compareSemver, parseIsoTimestamp, parseSemver } from './semver.ts';
export type { FlagValidationOptions, SegmentValidationOptions } from './validate.ts';
export {
  ATTRIBUTE_OPERATORS,
  KEY_PATTERN,
  segmentReferences,
  validateFlagConfig,
  validateSegment,
  validateSnapshotFlag,
} from './validate.ts';
