import { BUCKET_COUNT } from './model.ts';

/**
 * Assignment hash v1: murmur3 x86 32-bit, seed 0, over the UTF-8 bytes of `salt + "|" + unit`,
 * scaled to [0, BUCKET_COUNT). The UTF-8 encoding is done here by hand (no platform encoder needed)
 * and follows the WHATWG encoder: a lone surrogate is encoded as U+FFFD.
 */

const C1 = 0xcc9e2d51;
const C2 = 0x1b873593;
const TWO_POW_32 = 4_294_967_296;
const REPLACEMENT_CHARACTER = 0xfffd;
const UNIT_SEPARATOR = '|';

function mixBlock(h: number, k: number): number {
  let k1 = Math.imul(k, C1);
  k1 = (k1 << 15) | (k1 >>> 17);
  k1 = Math.imul(k1, C2);
  let h1 = h ^ k1;
  h1 = (h1 << 13) | (h1 >>> 19);
  return (Math.imul(h1, 5) + 0xe6546b64) | 0;
}

function finish(h: number, carry: number, carryLength: number, length: number): number {
  let h1 = h;
  if (carryLength > 0) {
    let k1 = Math.imul(carry, C1);
    k1 = (k1 << 15) | (k1 >>> 17);
    k1 = Math.imul(k1, C2);
    h1 ^= k1;
  }
  h1 ^= length;
  h1 ^= h1 >>> 16;
  h1 = Math.imul(h1, 0x85ebca6b);
  h1 ^= h1 >>> 13;
  h1 = Math.imul(h1, 0xc2b2ae35);
  h1 ^= h1 >>> 16;
  return h1 >>> 0;
}

/**
 * The running murmur3 state after some bytes: `h` over the complete 4-byte blocks, the pending
 * `carry` bytes (little-endian, `carryLength` of them) and the total byte `length`.
 */
export interface HashState {
  readonly h: number;
  readonly carry: number;
  readonly carryLength: number;
  readonly length: number;
}

const EMPTY_STATE: HashState = { h: 0, carry: 0, carryLength: 0, length: 0 };

/** Continues a murmur3 x86_32 state with the UTF-8 bytes of `text`; allocation-free apart from the result. */
export function extendHashState(state: HashState, text: string): HashState {
  let h = state.h;
  let carry = state.carry;
  let carryLength = state.carryLength;
  let length = state.length;
  const n = text.length;
  for (let i = 0; i < n; i++) {
    let c = text.charCodeAt(i);
    let byteCount: number;
    let bytes: number; // up to 4 bytes, first byte in the low 8 bits
    if (c < 0x80) {
      carry |= c << (carryLength << 3);
      length++;
      if (++carryLength === 4) {
        h = mixBlock(h, carry);
        carry = 0;
        carryLength = 0;
      }
      continue;
    }
    if (c < 0x800) {
      byteCount = 2;
      bytes = 0xc0 | (c >> 6) | ((0x80 | (c & 0x3f)) << 8);
    } else {
      if (c >= 0xd800 && c <= 0xdfff) {
        const next = i + 1 < n ? text.charCodeAt(i + 1) : 0;
        if (c <= 0xdbff && next >= 0xdc00 && next <= 0xdfff) {
          c = 0x10000 + ((c - 0xd800) << 10) + (next - 0xdc00);
          i++;
        } else {
          c = REPLACEMENT_CHARACTER;
        }
      }
      if (c < 0x10000) {
        byteCount = 3;
        bytes = 0xe0 | (c >> 12) | ((0x80 | ((c >> 6) & 0x3f)) << 8) | ((0x80 | (c & 0x3f)) << 16);
      } else {
        byteCount = 4;
        bytes =
          0xf0 |
          (c >> 18) |
          ((0x80 | ((c >> 12) & 0x3f)) << 8) |
          ((0x80 | ((c >> 6) & 0x3f)) << 16) |
          ((0x80 | (c & 0x3f)) << 24);
      }
    }
    for (let b = 0; b < byteCount; b++) {
      carry |= ((bytes >>> (b << 3)) & 0xff) << (carryLength << 3);
      length++;
      if (++carryLength === 4) {
        h = mixBlock(h, carry);
        carry = 0;
        carryLength = 0;
      }
    }
  }
  return { h, carry, carryLength, length };
}

/** The final 32-bit hash (unsigned) of a state. */
export function finishHashState(state: HashState): number {
  return finish(state.h, state.carry, state.carryLength, state.length);
}

/**
 * murmur3 x86 32-bit with seed 0 of a byte array, or of a string's UTF-8 bytes (lone surrogates as
 * U+FFFD). Returns an unsigned 32-bit integer.
 */
export function murmur3x86_32(input: string | Uint8Array): number {
  if (typeof input === 'string') return finishHashState(extendHashState(EMPTY_STATE, input));
  let h = 0;
  const n = input.length;
  const blocks = n - (n & 3);
  for (let i = 0; i < blocks; i += 4) {
    h = mixBlock(
      h,
      (input[i] as number) |
        ((input[i + 1] as number) << 8) |
        ((input[i + 2] as number) << 16) |
        ((input[i + 3] as number) << 24),
    );
  }
  let carry = 0;
  for (let i = blocks; i < n; i++) carry |= (input[i] as number) << ((i - blocks) << 3);
  return finish(h, carry, n & 3, n);
}

/** Scales an unsigned 32-bit hash to a bucket in [0, BUCKET_COUNT). */
export function hashToBucket(hash: number): number {
  return Math.floor((hash * BUCKET_COUNT) / TWO_POW_32);
}

/** The hash state after `salt + "|"`, so one flag's salt is encoded once, not on every evaluation. */
export function saltPrefixState(salt: string): HashState {
  return extendHashState(EMPTY_STATE, salt + UNIT_SEPARATOR);
}

/**
 * The bucket of `unit` given a precomputed salt prefix state (see `saltPrefixState`); in [0, BUCKET_COUNT).
 * The hot path of evaluation: it encodes and hashes in one pass with no allocation.
 */
export function bucketFromPrefix(prefix: HashState, unit: string): number {
  let h = prefix.h;
  let carry = prefix.carry;
  let carryLength = prefix.carryLength;
  const n = unit.length;
  let i = 0;
  for (;;) {
    // Whole blocks four characters at a time once the pending bytes are aligned: one test per block.
    if (carryLength === 0) {
      const blockEnd = n - 3;
      for (; i < blockEnd; i += 4) {
        const c0 = unit.charCodeAt(i);
        const c1 = unit.charCodeAt(i + 1);
        const c2 = unit.charCodeAt(i + 2);
        const c3 = unit.charCodeAt(i + 3);
        if ((c0 | c1 | c2 | c3) >= 0x80) break;
        h = mixBlock(h, c0 | (c1 << 8) | (c2 << 16) | (c3 << 24));
      }
    }
    if (i >= n) break;
    const c = unit.charCodeAt(i);
    if (c >= 0x80) {
      // Rare: finish the non-ASCII remainder through the general encoder.
      const rest = extendHashState({ h, carry, carryLength, length: prefix.length + i }, unit.slice(i));
      return hashToBucket(finishHashState(rest));
    }
    carry |= c << (carryLength << 3);
    i++;
    if (++carryLength === 4) {
      h = mixBlock(h, carry);
      carry = 0;
      carryLength = 0;
    }
  }
  return hashToBucket(finish(h, carry, carryLength, prefix.length + n));
}

/**
 * Assignment hash v1: the bucket, an integer in [0, 1,000,000), of `unit` for a flag with `salt`:
 * `floor(murmur3_x86_32(utf8(salt + "|" + unit), seed 0) × 1,000,000 / 2^32)`.
 */
export function bucket(salt: string, unit: string): number {
  return hashToBucket(murmur3x86_32(salt + UNIT_SEPARATOR + unit));
}
