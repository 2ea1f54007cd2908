import { MAX_REGEX_BACKTRACK_ESTIMATE, MAX_REGEX_INPUT_LENGTH, MAX_REGEX_LENGTH } from './limits.ts';

/**
 * A conservative static check that a `matches` pattern cannot backtrack catastrophically.
 * It parses the pattern into a small tree and rejects: backreferences, a repeated group that
 * contains another repeat (nested quantifiers), a repeated group that can match the empty string,
 * alternation under a repeat whose branches can start with the same character, and patterns whose
 * estimated backtracking work on the longest allowed input (MAX_REGEX_INPUT_LENGTH characters) exceeds
 * MAX_REGEX_BACKTRACK_ESTIMATE steps. The estimate multiplies the choices of every quantifier (an
 * unbounded one counts as the input length) and the start positions (one when anchored with `^`), so
 * some harmless patterns are refused; no exponential or high-degree polynomial one is accepted.
 */

type Atom =
  | { type: 'char'; first: string | null } // `first` null: a class, an escape class or `.`
  | { type: 'assertion'; start: boolean }
  | { type: 'group'; alternatives: Item[][] };

interface Item {
  atom: Atom;
  min: number;
  max: number; // Infinity for unbounded
}

class RegexSafetyError extends Error {}

class Parser {
  private pos = 0;
  constructor(private readonly src: string) {}

  parse(): Item[][] {
    const alternatives = this.alternatives();
    if (this.pos < this.src.length) throw new RegexSafetyError(`unbalanced ')' at ${this.pos}`);
    return alternatives;
  }

  private alternatives(): Item[][] {
    const result: Item[][] = [this.sequence()];
    while (this.src[this.pos] === '|') {
      this.pos++;
      result.push(this.sequence());
    }
    return result;
  }

  private sequence(): Item[] {
    const items: Item[] = [];
    while (this.pos < this.src.length) {
      const c = this.src[this.pos];
      if (c === '|' || c === ')') break;
      const atom = this.atom();
      const [min, max] = this.quantifier();
      if (atom.type === 'assertion' && max !== 1) throw new RegexSafetyError('a quantifier on an assertion');
      items.push({ atom, min, max });
    }
    return items;
  }

  private atom(): Atom {
    const c = this.src[this.pos++] as string;
    if (c === '^' || c === '$') return { type: 'assertion', start: c === '^' };
    if (c === '.') return { type: 'char', first: null };
    if (c === '[') {
      this.skipClass();
      return { type: 'char', first: null };
    }
    if (c === '\\') return this.escape();
    if (c === '(') {
      let assertion = false;
      if (this.src[this.pos] === '?') {
        const rest = this.src.slice(this.pos, this.pos + 3);
        if (rest.startsWith('?:')) this.pos += 2;
        else if (rest.startsWith('?=') || rest.startsWith('?!')) {
          this.pos += 2;
          assertion = true;
        } else if (rest === '?<=' || rest === '?<!') {
          this.pos += 3;
          assertion = true;
        } else if (rest.startsWith('?<')) {
          const close = this.src.indexOf('>', this.pos);
          if (close < 0) throw new RegexSafetyError('unterminated group name');
          this.pos = close + 1;
        } else throw new RegexSafetyError(`unsupported group syntax at ${this.pos - 1}`);
      }
      const alternatives = this.alternatives();
      if (this.src[this.pos] !== ')') throw new RegexSafetyError('unterminated group');
      this.pos++;
      if (assertion) {
        // The body of a lookaround still runs the backtracking engine: check it like any group.
        checkAlternatives(alternatives);
        return { type: 'group', alternatives };
      }
      return { type: 'group', alternatives };
    }
    if (c === '*' || c === '+' || c === '?' || c === '{')
      throw new RegexSafetyError(`a quantifier with nothing to repeat at ${this.pos - 1}`);
    return { type: 'char', first: c };
  }

  private escape(): Atom {
    const c = this.src[this.pos++];
    if (c === undefined) throw new RegexSafetyError('a trailing backslash');
    if (/[1-9]/.test(c) || c === 'k') throw new RegexSafetyError('backreferences are not allowed');
    if (c === 'b' || c === 'B') return { type: 'assertion', start: false };
    if ('dDwWsSpP'.includes(c)) {
      if ((c === 'p' || c === 'P') && this.src[this.pos] === '{') this.skipBraces();
      return { type: 'char', first: null };
    }
    if (c === 'u' || c === 'x' || c === 'c') {
      if (c === 'u' && this.src[this.pos] === '{') this.skipBraces();
      else this.pos += c === 'u' ? 4 : c === 'x' ? 2 : 1;
      return { type: 'char', first: null };
    }
    if (c === 'n' || c === 't' || c === 'r' || c === 'f' || c === 'v' || c === '0')
      return { type: 'char', first: `\\${c}` };
    return { type: 'char', first: c };
  }

  private skipBraces(): void {
    const close = this.src.indexOf('}', this.pos);
    if (close < 0) throw new RegexSafetyError('unterminated escape');
    this.pos = close + 1;
  }

  private skipClass(): void {
    while (this.pos < this.src.length) {
      const c = this.src[this.pos++];
      if (c === '\\') this.pos++;
      else if (c === ']') return;
    }
    throw new RegexSafetyError('unterminated character class');
  }

  private quantifier(): [number, number] {
    const c = this.src[this.pos];
    let min = 1;
    let max = 1;
    if (c === '*' || c === '+' || c === '?') {
      this.pos++;
      min = c === '+' ? 1 : 0;
      max = c === '?' ? 1 : Number.POSITIVE_INFINITY;
    } else if (c === '{') {
      const m = /^\{(\d+)(,(\d*))?\}/.exec(this.src.slice(this.pos));
      if (!m) return [1, 1]; // a literal brace
      this.pos += m[0].length;
      min = Number(m[1]);
      max = m[2] === undefined ? min : m[3] === '' ? Number.POSITIVE_INFINITY : Number(m[3]);
    } else return [1, 1];
    if (this.src[this.pos] === '?') this.pos++; // lazy: same worst case
    return [min, max];
  }
}

function canBeEmpty(alternatives: Item[][]): boolean {
  return alternatives.some((seq) =>
    seq.every(
      (item) =>
        item.min === 0 ||
        item.atom.type === 'assertion' ||
        (item.atom.type === 'group' && canBeEmpty(item.atom.alternatives)),
    ),
  );
}

function containsRepeat(alternatives: Item[][]): boolean {
  return alternatives.some((seq) =>
    seq.some(
      (item) => item.max > 1 || (item.atom.type === 'group' && containsRepeat(item.atom.alternatives)),
    ),
  );
}

/** The literal first character of a sequence, or null when it is a class, may be empty, or is unknown. */
function firstLiteral(seq: Item[]): string | null {
  const item = seq[0];
  if (!item || item.min === 0) return null;
  if (item.atom.type === 'char') return item.atom.first;
  if (item.atom.type === 'group' && item.atom.alternatives.length === 1)
    return firstLiteral(item.atom.alternatives[0] as Item[]);
  return null;
}

function checkAlternatives(alternatives: Item[][]): void {
  for (const seq of alternatives) {
    for (const item of seq) {
      if (item.atom.type !== 'group') continue;
      const inner = item.atom.alternatives;
      if (item.max > 1) {
        if (containsRepeat(inner))
          throw new RegexSafetyError('nested quantifiers (a repeat inside a repeat)');
        if (canBeEmpty(inner)) throw new RegexSafetyError('a repeated group that can match the empty string');
        if (inner.length > 1) {
          const seen = new Set<string>();
          for (const branch of inner) {
            const first = firstLiteral(branch);
            if (first === null || seen.has(first))
              throw new RegexSafetyError(
                'alternatives under a repeat that can start with the same character',
              );
            seen.add(first);
          }
        }
      }
      checkAlternatives(inner);
    }
  }
}

function sequenceCost(seq: Item[]): number {
  let cost = 1;
  for (const item of seq) {
    const choices = item.max === Number.POSITIVE_INFINITY ? MAX_REGEX_INPUT_LENGTH : item.max - item.min + 1;
    const inner = item.atom.type === 'group' ? alternativesCost(item.atom.alternatives) : 1;
    cost *= choices * inner;
  }
  return cost;
}

function alternativesCost(alternatives: Item[][]): number {
  let cost = 0;
  for (const seq of alternatives) cost += sequenceCost(seq);
  return cost;
}

/** Estimated backtracking steps on an input of MAX_REGEX_INPUT_LENGTH characters. */
function estimateCost(alternatives: Item[][]): number {
  const anchored = alternatives.every((seq) => {
    const first = seq[0]?.atom;
    return first?.type === 'assertion' && first.start;
  });
  return (anchored ? 1 : MAX_REGEX_INPUT_LENGTH) * alternativesCost(alternatives);
}

/**
 * Checks a `matches` pattern: its length, that it compiles (with the `u` flag), and that it cannot
 * backtrack catastrophically. Returns null when the pattern is accepted, otherwise the reason.
 */
export function checkRegexSafety(pattern: string): string | null {
  if (pattern.length > MAX_REGEX_LENGTH)
    return `a pattern of at most ${MAX_REGEX_LENGTH} characters (got ${pattern.length})`;
  try {
    new RegExp(pattern, 'u');
  } catch (error) {
    return `a valid regular expression (${error instanceof Error ? error.message : 'does not compile'})`;
  }
  try {
    const tree = new Parser(pattern).parse();
    checkAlternatives(tree);
    if (estimateCost(tree) > MAX_REGEX_BACKTRACK_ESTIMATE)
      return 'a pattern with fewer open-ended repeats: too many quantifiers could make it slow (anchor it with ^ or remove a * / + / {n,m})';
  } catch (error) {
    if (error instanceof RegexSafetyError)
      return `a pattern that cannot backtrack catastrophically: ${error.message}`;
    return 'a pattern the safety checker can read';
  }
  return null;
}
