/** Semantic versions (semver 2.0.0 precedence) and ISO 8601 timestamps for targeting operators. */

/** A parsed version: numeric core and prerelease identifiers (numbers or strings); build metadata dropped. */
export interface SemVer {
  major: number;
  minor: number;
  patch: number;
  prerelease: (number | string)[];
}

const SEMVER_PATTERN =
  /^v?(0|[1-9]\d*)\.(0|[1-9]\d*)\.(0|[1-9]\d*)(?:-((?:0|[1-9]\d*|\d*[A-Za-z-][0-9A-Za-z-]*)(?:\.(?:0|[1-9]\d*|\d*[A-Za-z-][0-9A-Za-z-]*))*))?(?:\+[0-9A-Za-z-]+(?:\.[0-9A-Za-z-]+)*)?$/;
const MAX_SEMVER_LENGTH = 256;

/** Parses `1.2.3`, `v1.2.3-beta.1+build.5`; returns null for anything else. */
export function parseSemver(text: string): SemVer | null {
  if (text.length > MAX_SEMVER_LENGTH) return null;
  const plain = parsePlainVersion(text);
  if (plain !== null) return plain;
  const m = SEMVER_PATTERN.exec(text);
  if (!m) return null;
  const major = Number(m[1]);
  const minor = Number(m[2]);
  const patch = Number(m[3]);
  if (!Number.isSafeInteger(major) || !Number.isSafeInteger(minor) || !Number.isSafeInteger(patch))
    return null;
  const prerelease =
    m[4] === undefined ? [] : m[4].split('.').map((id) => (/^\d+$/.test(id) ? Number(id) : id));
  return { major, minor, patch, prerelease };
}

const DIGIT_0 = 48;
const DIGIT_9 = 57;
const DOT = 46;

/** Fast path for the common `MAJOR.MINOR.PATCH` form (digits and two dots only); null for anything else. */
function parsePlainVersion(text: string): SemVer | null {
  const parts = [0, 0, 0];
  let part = 0;
  let digits = 0;
  for (let i = 0; i < text.length; i++) {
    const c = text.charCodeAt(i);
    if (c === DOT) {
      if (digits === 0 || part === 2) return null;
      part++;
      digits = 0;
    } else if (c >= DIGIT_0 && c <= DIGIT_9) {
      if (digits === 1 && parts[part] === 0) return null; // no leading zeros
      if (++digits > 15) return null;
      parts[part] = (parts[part] as number) * 10 + (c - DIGIT_0);
    } else return null;
  }
  if (part !== 2 || digits === 0) return null;
  return { major: parts[0] as number, minor: parts[1] as number, patch: parts[2] as number, prerelease: [] };
}

/** Compares two versions by semver precedence: negative when a < b, 0 when equal, positive when a > b. */
export function compareSemver(a: SemVer, b: SemVer): number {
  if (a.major !== b.major) return a.major - b.major;
  if (a.minor !== b.minor) return a.minor - b.minor;
  if (a.patch !== b.patch) return a.patch - b.patch;
  const pa = a.prerelease;
  const pb = b.prerelease;
  if (pa.length === 0 || pb.length === 0) return pb.length - pa.length; // a release outranks its prereleases
  const n = Math.min(pa.length, pb.length);
  for (let i = 0; i < n; i++) {
    const x = pa[i] as number | string;
    const y = pb[i] as number | string;
    if (x === y) continue;
    if (typeof x === 'number' && typeof y === 'number') return x - y;
    if (typeof x === 'number') return -1; // numeric identifiers rank below alphanumeric ones
    if (typeof y === 'number') return 1;
    return x < y ? -1 : 1;
  }
  return pa.length - pb.length;
}

const ISO_TIMESTAMP_PATTERN =
  /^\d{4}-(0[1-9]|1[0-2])-(0[1-9]|[12]\d|3[01])(T([01]\d|2[0-3]):[0-5]\d(:[0-5]\d(\.\d{1,3})?)?(Z|[+-]([01]\d|2[0-3]):[0-5]\d))?$/;

/**
 * Parses an ISO 8601 timestamp (`2025-03-01`, `2025-03-01T12:00:00Z`, `2025-03-01T12:00:00.5+02:00`) to
 * milliseconds since the Unix epoch. A time needs an explicit zone, so the result never depends on the
 * machine's time zone; returns null for anything else.
 */
export function parseIsoTimestamp(text: string): number | null {
  if (text.length > 40 || !ISO_TIMESTAMP_PATTERN.test(text)) return null;
  const ms = Date.parse(text);
  return Number.isFinite(ms) ? ms : null;
}
