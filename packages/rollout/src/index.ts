// Public API of @dimmer/rollout: rollout and experiment plans, their state machines, the rules they put on a flag,
// plan forecasts, `decide` and `decideExperiment`. Pure: time arrives as an argument (epoch milliseconds).
export * from './decide.ts';
export * from './duration.ts';
export * from './evidence.ts';
export * from './experiment-decide.ts';
export * from './experiment-plan.ts';
export * from './experiment-planning.ts';
export * from './experiment-rule.ts';
export * from './experiment-state.ts';
export * from './forecast.ts';
export * from './metric.ts';
export * from './plan.ts';
export * from './rule.ts';
export * from './state.ts';
