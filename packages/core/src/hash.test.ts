import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { bucket, bucketFromPrefix, murmur3x86_32, saltPrefixState } from './hash.ts';
import { BUCKET_COUNT } from './model.ts';

interface Vector {
  salt: string;
  unit: string;
  hash: number;
  bucket: number;
}

/** The published conformance vectors, committed at the repository root under spec/. */
const findSpec = (file: string): string => join(import.meta.dirname, '..', '..', '..', 'spec', file);

const vectors = (JSON.parse(readFileSync(findSpec('hash-v1-vectors.json'), 'utf8')) as { vectors: Vector[] })
  .vectors;

/** Reference UTF-8 encoder from the platform, used only to check the hand-written one. */
const encoder = new TextEncoder();

describe('assignment hash v1', () => {
  it('reads a non-trivial vector file, non-ASCII included', () => {
    expect(vectors.length).toBeGreaterThan(50);
    expect(vectors.some((v) => /[^\x00-\x7f]/.test(v.salt + v.unit))).toBe(true);
  });

  it('reproduces every golden vector', () => {
    for (const v of vectors) {
      const label = JSON.stringify([v.salt, v.unit]);
      expect(murmur3x86_32(`${v.salt}|${v.unit}`), label).toBe(v.hash);
      expect(bucket(v.salt, v.unit), label).toBe(v.bucket);
      expect(bucketFromPrefix(saltPrefixState(v.salt), v.unit), label).toBe(v.bucket);
    }
  });

  it('hashes strings exactly as their UTF-8 bytes, surrogate pairs and lone surrogates included', () => {
    const samples = [
      '',
      'a',
      'ab',
      'abc',
      'abcd',
      'é',
      '日本',
      '🚀',
      '\ud800',
      'x\udc00y',
      '\ud83d',
      'a\ud83d\ude80\ud800',
    ];
    for (const s of samples)
      expect(murmur3x86_32(s), JSON.stringify(s)).toBe(murmur3x86_32(encoder.encode(s)));
    fc.assert(
      fc.property(
        fc.string({ unit: 'binary' }),
        (s) => murmur3x86_32(s) === murmur3x86_32(encoder.encode(s)),
      ),
      { numRuns: 2000 },
    );
  });

  it('gives the same bucket through a precomputed salt prefix', () => {
    fc.assert(
      fc.property(fc.string({ unit: 'binary' }), fc.string({ unit: 'binary' }), (salt, unit) => {
        return bucket(salt, unit) === bucketFromPrefix(saltPrefixState(salt), unit);
      }),
      { numRuns: 2000 },
    );
  });

  it('keeps every bucket an integer in range and deterministic', () => {
    fc.assert(
      fc.property(fc.string(), fc.string({ unit: 'grapheme' }), (salt, unit) => {
        const b = bucket(salt, unit);
        return Number.isInteger(b) && b >= 0 && b < BUCKET_COUNT && b === bucket(salt, unit);
      }),
      { numRuns: 2000 },
    );
  });
});
