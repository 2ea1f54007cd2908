/**
 * compileConfig(snapshot, previous): a snapshot that shares flags and segments (the same objects) with an
 * earlier one takes over their compiled form, and evaluates exactly as a fresh compile does.
 */
import { describe, expect, it } from 'vitest';
import { type CompiledConfig, compileConfig } from './compile.ts';
import { evaluateAll } from './evaluate.ts';
import type { EnvironmentSnapshot, Segment, SnapshotFlag } from './model.ts';

function flag(key: string, overrides: Partial<SnapshotFlag> = {}): SnapshotFlag {
  return {
    key,
    kind: 'string',
    variants: { a: 'A', b: 'B' },
    defaultVariant: 'a',
    salt: `salt-${key}`,
    hashVersion: 1,
    enabled: true,
    rules: [{ id: 'nordic', when: { segment: 'nordic' }, serve: { variant: 'b' } }],
    ...overrides,
  };
}

const nordic: Segment = { key: 'nordic', when: { attr: 'country', op: 'in', value: ['SE', 'NO'] } };

function snapshot(version: number, flags: SnapshotFlag[], segments: Segment[]): EnvironmentSnapshot {
  return { environment: 'production', version, flags, segments };
}

const contexts = ['SE', 'NO', 'DK', 'FI'].flatMap((country) =>
  ['u1', 'u2', 'u3'].map((targetingKey) => ({ targetingKey, country })),
);

/** Every flag's result for every context: what a client would serve from `config`. */
function served(config: CompiledConfig) {
  return contexts.map((context) => evaluateAll(config, context));
}

describe('compileConfig with the previous compile', () => {
  const f1 = flag('f1');
  const f2 = flag('f2');
  const first = compileConfig(snapshot(1, [f1, f2], [nordic]));

  it('takes over unchanged flags and compiles the changed ones', () => {
    const changed = flag('f2', { defaultVariant: 'b' });
    const next = snapshot(2, [f1, changed], [nordic]);
    const reused = compileConfig(next, first);
    expect(reused.version).toBe(2);
    expect(reused.flags.get('f1')).toBe(first.flags.get('f1'));
    expect(reused.flags.get('f2')).not.toBe(first.flags.get('f2'));
    expect(reused.segmentMemo).toBe(first.segmentMemo);
    expect(served(reused)).toEqual(served(compileConfig(next)));
    expect(reused.flags.get('f2')?.defaultVariant).toBe('b');
  });

  it('compiles everything again when a segment changed, and serves the new segment', () => {
    const wider: Segment = { key: 'nordic', when: { attr: 'country', op: 'in', value: ['SE', 'NO', 'DK'] } };
    const next = snapshot(2, [f1, f2], [wider]);
    const recompiled = compileConfig(next, first);
    expect(recompiled.flags.get('f1')).not.toBe(first.flags.get('f1'));
    expect(served(recompiled)).toEqual(served(compileConfig(next)));
    const denmark = evaluateAll(recompiled, { targetingKey: 'u1', country: 'DK' });
    expect(denmark.every((result) => result.variant === 'b')).toBe(true);
  });

  it('never takes over a flag that had issues: its issues name its new place', () => {
    const broken = { ...flag('f3'), defaultVariant: 'missing' } as SnapshotFlag;
    const withBroken = compileConfig(snapshot(1, [broken, f1], [nordic]));
    expect(withBroken.issues.some((issue) => issue.path.startsWith('flags[0]'))).toBe(true);
    const moved = compileConfig(snapshot(2, [f1, broken], [nordic]), withBroken);
    expect(moved.flags.get('f1')).toBe(withBroken.flags.get('f1'));
    expect(moved.issues.some((issue) => issue.path.startsWith('flags[1]'))).toBe(true);
    expect(moved.issues.some((issue) => issue.path.startsWith('flags[0]'))).toBe(false);
  });

  it('takes over nothing from an unrelated config (other objects, same content)', () => {
    const copy = structuredClone(snapshot(2, [f1, f2], [nordic]));
    const fresh = compileConfig(copy, first);
    expect(fresh.flags.get('f1')).not.toBe(first.flags.get('f1'));
    expect(served(fresh)).toEqual(served(first));
  });

  it('still reports a duplicate key of a flag it could take over', () => {
    const next = compileConfig(snapshot(2, [f1, f1], [nordic]), first);
    expect(next.flags.get('f1')).toBe(first.flags.get('f1'));
    expect(next.issues.map((issue) => issue.path)).toEqual(['flags[1].key']);
  });

  it('keeps the issues of an unchanged broken segment and the references of unchanged ones when another segment changes', () => {
    const staff: Segment = { key: 'staff', when: { segment: 'nordic' } };
    const broken = { key: 'broken', when: { attr: 'country', op: 'shrug', value: 1 } } as unknown as Segment;
    const viaStaff = flag('f4', {
      rules: [{ id: 'staff', when: { segment: 'staff' }, serve: { variant: 'b' } }],
    });
    const before = compileConfig(snapshot(1, [viaStaff], [nordic, staff, broken]));
    const wider: Segment = { key: 'nordic', when: { attr: 'country', op: 'in', value: ['DK'] } };
    const next = snapshot(2, [viaStaff], [wider, staff, broken]);
    const after = compileConfig(next, before);
    expect(after.issues).toEqual(compileConfig(next).issues);
    expect(after.issues.some((issue) => issue.path.startsWith('segments[2]'))).toBe(true);
    expect(served(after)).toEqual(served(compileConfig(next)));
    expect(evaluateAll(after, { targetingKey: 'u1', country: 'DK' })[0]?.variant).toBe('b');
    expect(evaluateAll(after, { targetingKey: 'u1', country: 'SE' })[0]?.variant).toBe('a');
  });
});
