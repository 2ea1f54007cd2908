// Public API of @dimmer/rollout: rollout plans, the rollout state machine, the rule a rollout puts on its flag,
// plan forecasts and `decide`. Pure: time arrives as an argument (epoch milliseconds).
export * from './decide.ts';
export * from './duration.ts';
export * from './evidence.ts';
export * from './forecast.ts';
export * from './metric.ts';
export * from './plan.ts';
export * from './rule.ts';
export * from './state.ts';
