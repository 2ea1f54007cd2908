/** The surfaces feature as other features see it: its port's types and the holdback analysis naming. */
export { HOLDBACK_ARM, holdbackAnalysisKey, REST_ARM } from './holdback-naming.ts';
export type {
  Surface,
  SurfaceGuardrail,
  SurfaceHoldback,
  SurfaceRecord,
  SurfacesStore,
} from './surfaces.store.ts';
