/** The surfaces feature as other features see it: its port's types. */
export type { Surface, SurfaceGuardrail, SurfaceRecord, SurfacesStore } from './surfaces.store.ts';
