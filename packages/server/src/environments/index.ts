/** The environments feature as other features see it: its port's types. */
export type { EnvironmentRecord, EnvironmentsStore } from './environments.store.ts';
