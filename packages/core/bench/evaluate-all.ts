/** evaluateAll over a 50-flag config of mixed shapes, for one context at a time. */
import { compileConfig, evaluateAll, type Segment, type SnapshotFlag } from '../src/index.ts';
import { dimmerFlag, userAttributes } from './systems.ts';

const FLAG_COUNT = 50;
const CALLS_PER_BATCH = 1_000;
const BATCHES = 300;
const WARMUP_BATCHES = 50;

const segments: Segment[] = [
  { key: 'nordic', when: { attr: 'country', op: 'in', value: ['SE', 'NO', 'DK', 'FI', 'IS'] } },
  { key: 'staff', when: { attr: 'email', op: 'ends_with', value: '@example.com' } },
];

/** A config of FLAG_COUNT flags: static, disabled, targeted rollouts, segment experiments, regex and semver rules. */
export function fiftyFlags(): SnapshotFlag[] {
  const flags: SnapshotFlag[] = [];
  for (let i = 0; i < FLAG_COUNT; i++) {
    const key = `flag-${i}`;
    const salt = `salt-${i}`;
    switch (i % 5) {
      case 0:
        flags.push({ ...dimmerFlag, key, salt });
        break;
      case 1:
        flags.push({ ...dimmerFlag, key, salt, enabled: i % 10 !== 1, rules: [] });
        break;
      case 2:
        flags.push({
          key,
          salt,
          kind: 'string',
          hashVersion: 1,
          enabled: true,
          variants: { control: 'blue', a: 'green', b: 'red' },
          defaultVariant: 'control',
          rules: [
            {
              id: 'exp',
              experiment: `ex_${i}`,
              when: { any: [{ segment: 'nordic' }, { segment: 'staff' }] },
              serve: {
                split: [
                  { variant: 'control', range: [0, 333_333], arm: 'control' },
                  { variant: 'a', range: [333_333, 666_666], arm: 'treatment' },
                  { variant: 'b', range: [666_666, 1_000_000], arm: 'treatment' },
                ],
              },
            },
          ],
        });
        break;
      case 3:
        flags.push({
          key,
          salt,
          kind: 'object',
          hashVersion: 1,
          enabled: true,
          variants: { small: { limit: 10, tier: 'small' }, large: { limit: 100, tier: 'large' } },
          defaultVariant: 'small',
          overrides: { 'user-1': 'large' },
          rules: [
            {
              id: 'new-app',
              when: { attr: 'appVersion', op: 'semver_gt', value: '2.0.0' },
              serve: { variant: 'large' },
            },
            {
              id: 'email',
              when: { attr: 'email', op: 'matches', value: '^[a-z0-9.]+@corp\\.example$' },
              serve: { variant: 'large' },
            },
          ],
        });
        break;
      default:
        flags.push({
          key,
          salt,
          kind: 'number',
          hashVersion: 1,
          enabled: true,
          variants: { low: 1, high: 5 },
          defaultVariant: 'low',
          rules: [
            {
              id: 'adults',
              when: {
                all: [
                  { attr: 'age', op: 'gte', value: 18 },
                  { not: { attr: 'plan', op: 'eq', value: 'free' } },
                ],
              },
              serve: { variant: 'high' },
            },
            { id: 'half', bucketBy: 'orgId', serve: { split: [{ variant: 'high', range: [0, 500_000] }] } },
          ],
        });
    }
  }
  return flags;
}

/** Median microseconds per evaluateAll call over batches of distinct contexts. */
export function measureEvaluateAll(): { medianMicros: number; flags: number } {
  const compiled = compileConfig({ environment: 'bench', version: 1, flags: fiftyFlags(), segments });
  if (compiled.issues.length > 0) throw new Error(JSON.stringify(compiled.issues));
  const contexts = Array.from({ length: CALLS_PER_BATCH * 8 }, (_, i) => ({
    targetingKey: `all-user-${i}`,
    ...userAttributes(i),
    email: i % 7 === 0 ? `u${i}@example.com` : `u${i}@mail.test`,
    appVersion: i % 3 === 0 ? '2.1.0' : '1.9.4',
    age: 15 + (i % 40),
    orgId: `org-${i % 97}`,
  }));
  const perCall: number[] = [];
  let sink = 0;
  for (let b = 0; b < WARMUP_BATCHES + BATCHES; b++) {
    const offset = (b % 8) * CALLS_PER_BATCH;
    const start = process.hrtime.bigint();
    for (let i = 0; i < CALLS_PER_BATCH; i++)
      sink += evaluateAll(compiled, contexts[offset + i] as never).length;
    const micros = Number(process.hrtime.bigint() - start) / 1e3 / CALLS_PER_BATCH;
    if (b >= WARMUP_BATCHES) perCall.push(micros);
  }
  if (sink !== (WARMUP_BATCHES + BATCHES) * CALLS_PER_BATCH * FLAG_COUNT)
    throw new Error('evaluateAll lost flags');
  perCall.sort((x, y) => x - y);
  return { medianMicros: perCall[Math.floor(perCall.length / 2)] as number, flags: compiled.flagList.length };
}
