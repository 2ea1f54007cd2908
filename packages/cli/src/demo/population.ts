/**
 * The simulated users of `dimmer demo`: a seeded random source and what one user does in one visit (sessions,
 * requests with latency and errors, a crash, a checkout), given the variants the user is served.
 */

/** A uniform random number in [0, 1). */
export type Random = () => number;

/** A small seeded generator (mulberry32), so a demo run with the same seed sends the same traffic. */
export function seededRandom(seed: number): Random {
  let a = seed >>> 0;
  return () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4_294_967_296;
  };
}

/** How a group of users behaves; every rate is per user or per request as named. */
export interface Behaviour {
  /** Probability that a user's visit ends in a crash. */
  crashRate: number;
  /** Probability that one request fails. */
  errorRate: number;
  /** Mean request latency, in milliseconds (log-normally spread around it). */
  latencyMs: number;
  /** Probability of each further session after the first (geometric, capped). */
  returnRate: number;
  /** Probability that a user completes a checkout. */
  conversion: number;
  /**
   * A slow tail: requests whose latency draw lies above the log-normal's `z`-quantile take `factor` times as
   * long, the others `bodyFactor` times (chosen so that the mean stays where it was).
   */
  latencyTail?: { z: number; factor: number; bodyFactor: number };
}

/** The users before any change: 2% crash, 5% failed requests, 120 ms, 1.6 sessions, 30% checkout. */
export const BASELINE: Behaviour = {
  crashRate: 0.02,
  errorRate: 0.05,
  latencyMs: 120,
  returnRate: 0.4,
  conversion: 0.3,
};

/** Most sessions one user has in a visit. */
const MAX_SESSIONS = 5;
/** Requests per session: uniformly 1 to this many. */
const MAX_REQUESTS_PER_SESSION = 3;
/** Spread (σ of the log) of request latency. */
export const LATENCY_LOG_SIGMA = 0.35;

/** One tracked event of a visit, `offsetMs` after the user was first served. */
export interface VisitEvent {
  name: string;
  value?: number;
  offsetMs: number;
}

function normal(random: Random): number {
  const u = Math.max(random(), Number.MIN_VALUE);
  return Math.sqrt(-2 * Math.log(u)) * Math.cos(2 * Math.PI * random());
}

/**
 * The events of one user's visit under `behaviour`, spread over `spanMs` milliseconds after the first
 * evaluation: `session_start` per session, `request` (value = latency in ms) and `request_error` per request,
 * `app_crash` at most once, `checkout_complete` at most once.
 */
export function simulateVisit(random: Random, behaviour: Behaviour, spanMs: number): VisitEvent[] {
  const events: VisitEvent[] = [];
  const at = () => Math.floor(random() * spanMs);
  let sessions = 1;
  while (sessions < MAX_SESSIONS && random() < behaviour.returnRate) sessions++;
  const logMean = Math.log(behaviour.latencyMs) - (LATENCY_LOG_SIGMA * LATENCY_LOG_SIGMA) / 2;
  for (let s = 0; s < sessions; s++) {
    events.push({ name: 'session_start', offsetMs: at() });
    const requests = 1 + Math.floor(random() * MAX_REQUESTS_PER_SESSION);
    for (let r = 0; r < requests; r++) {
      const draw = normal(random);
      const tail = behaviour.latencyTail;
      const scale = tail === undefined ? 1 : draw > tail.z ? tail.factor : tail.bodyFactor;
      const latency = Math.round(scale * Math.exp(logMean + LATENCY_LOG_SIGMA * draw));
      const offsetMs = at();
      events.push({ name: 'request', value: latency, offsetMs });
      if (random() < behaviour.errorRate) events.push({ name: 'request_error', offsetMs });
    }
  }
  if (random() < behaviour.crashRate) events.push({ name: 'app_crash', offsetMs: at() });
  if (random() < behaviour.conversion) events.push({ name: 'checkout_complete', offsetMs: at() });
  return events.sort((a, b) => a.offsetMs - b.offsetMs);
}

/** The events a visit produces, each with the behaviour rate that drives it. */
export const SIMULATED_EVENTS = {
  app_crash: 'crashRate',
  request_error: 'errorRate',
  request: 'latencyMs',
  session_start: 'returnRate',
  checkout_complete: 'conversion',
} as const satisfies Record<string, keyof Behaviour>;

export type SimulatedEvent = keyof typeof SIMULATED_EVENTS;

/** Probabilities that must stay at most 1 when scaled (latency is not a probability). */
const PROBABILITY_FIELDS: ReadonlySet<keyof Behaviour> = new Set([
  'crashRate',
  'errorRate',
  'returnRate',
  'conversion',
]);

/**
 * `behaviour` with the rate behind `event` multiplied by `factor` (e.g. app_crash × 3: crash rate 2% → 6%);
 * probabilities are capped at 1.
 */
export function scaleBehaviour(behaviour: Behaviour, event: SimulatedEvent, factor: number): Behaviour {
  const field = SIMULATED_EVENTS[event];
  const scaled = behaviour[field] * factor;
  return { ...behaviour, [field]: PROBABILITY_FIELDS.has(field) ? Math.min(1, scaled) : scaled };
}
