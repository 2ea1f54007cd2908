/** The segments feature as other features see it: its port's types and its in-memory table. */
export { SEGMENTS_TABLE } from './segments.memory.ts';
export type { SegmentRecord, SegmentsStore } from './segments.store.ts';
