/**
 * Seeded randomness: there is no Math.random anywhere in the simulator, so a scenario with the same
 * seed gives the same readings. Streams (`Rng`) are consumed in time order by the environment;
 * `keyedRandom` consumes nothing, so sensor noise does not depend on how often a sensor is read.
 */

/** mulberry32: a tiny 32-bit PRNG; returns numbers in [0, 1). */
export function mulberry32(seed: number): () => number {
  let state = seed >>> 0;
  return () => {
    state = (state + 0x6d2b79f5) >>> 0;
    let t = state;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

/** FNV-1a hash of a string (32 bits). */
export function hashString(text: string): number {
  let hash = 0x811c9dc5;
  for (let i = 0; i < text.length; i++) {
    hash ^= text.charCodeAt(i);
    hash = Math.imul(hash, 0x01000193);
  }
  return hash >>> 0;
}

/** Combines numbers into one 32-bit seed (murmur3-style); numbers beyond 32 bits are split. */
export function mixSeed(...parts: number[]): number {
  let hash = 0x9747b28c;
  const add = (word: number) => {
    let k = Math.imul(word >>> 0, 0xcc9e2d51);
    k = (k << 15) | (k >>> 17);
    k = Math.imul(k, 0x1b873593);
    hash ^= k;
    hash = (hash << 13) | (hash >>> 19);
    hash = (Math.imul(hash, 5) + 0xe6546b64) >>> 0;
  };
  for (const part of parts) {
    const whole = Math.round(part);
    add(whole % 4294967296);
    add(Math.floor(whole / 4294967296));
  }
  hash ^= hash >>> 16;
  hash = Math.imul(hash, 0x85ebca6b);
  hash ^= hash >>> 13;
  hash = Math.imul(hash, 0xc2b2ae35);
  hash ^= hash >>> 16;
  return hash >>> 0;
}

/** A uniform number in [0, 1) that depends only on (seed, key, t, n): no stream is consumed. */
export function keyedRandom(seed: number, key: string, t: number, n = 0): number {
  return mulberry32(mixSeed(seed, hashString(key), t, n))();
}

/** A seeded random stream with the distributions the physics needs. */
export class Rng {
  readonly #next: () => number;
  #spare: number | undefined;

  constructor(seed: number) {
    this.#next = mulberry32(seed);
  }

  /** Uniform in [0, 1). */
  next(): number {
    return this.#next();
  }

  uniform(min: number, max: number): number {
    return min + (max - min) * this.#next();
  }

  /** Standard normal (Box–Muller). */
  normal(): number {
    if (this.#spare !== undefined) {
      const spare = this.#spare;
      this.#spare = undefined;
      return spare;
    }
    const u = 1 - this.#next();
    const v = this.#next();
    const r = Math.sqrt(-2 * Math.log(u));
    this.#spare = r * Math.sin(2 * Math.PI * v);
    return r * Math.cos(2 * Math.PI * v);
  }

  /** Exponentially distributed with this mean (gaps between random arrivals). */
  exponential(mean: number): number {
    return -mean * Math.log(1 - this.#next());
  }

  chance(probability: number): boolean {
    return this.#next() < probability;
  }
}

/** A symmetric spread in [−half, +half] from a uniform number in [0, 1) (sensor noise of ±half). */
export function spread(uniform: number, half: number): number {
  return (2 * uniform - 1) * half;
}
