/**
 * The one random source. Unseeded it draws from the OS; with a seed (`--seed`) every SID, token and fault draw
 * repeats run after run. Nothing in the emulator calls Math.random() directly.
 */
import { createHash, randomBytes } from 'node:crypto';

export interface RandomSource {
  /** a float in [0, 1) */
  next(): number;
  /** `n` lowercase hex characters */
  hex(n: number): string;
  readonly seeded: boolean;
  /**
   * Seeded: go on from a state that also depends on `entropy`. A snapshot load calls it, so an emulator started with
   * the seed that made the snapshot's SIDs does not draw them again. Unseeded: nothing to do.
   */
  mix(entropy: string): void;
}

function seededDraw(material: string): () => number {
  const digest = createHash('sha256').update(material).digest();
  const draw = sfc32(digest.readUInt32LE(0), digest.readUInt32LE(4), digest.readUInt32LE(8), digest.readUInt32LE(12));
  for (let i = 0; i < 12; i++) draw();
  return draw;
}

/** sfc32: small, fast, good enough for test determinism (not for secrets). */
function sfc32(a: number, b: number, c: number, d: number): () => number {
  return () => {
    a >>>= 0; b >>>= 0; c >>>= 0; d >>>= 0;
    const t = (((a + b) | 0) + d) | 0;
    d = (d + 1) | 0;
    a = b ^ (b >>> 9);
    b = (c + (c << 3)) | 0;
    c = (c << 21) | (c >>> 11);
    c = (c + t) | 0;
    return t >>> 0;
  };
}

const HEX = '0123456789abcdef';

export function createRandom(seed?: string | number): RandomSource {
  if (seed === undefined || seed === '') {
    // Unseeded: buffer OS randomness so a SID costs a slice, not a syscall.
    let pool = randomBytes(0);
    let offset = 0;
    const take = (n: number): Buffer => {
      if (offset + n > pool.length) {
        pool = randomBytes(Math.max(4096, n));
        offset = 0;
      }
      const out = pool.subarray(offset, offset + n);
      offset += n;
      return out;
    };
    return {
      seeded: false,
      mix: () => undefined,
      next: () => take(4).readUInt32LE(0) / 2 ** 32,
      hex: (n) => take(Math.ceil(n / 2)).toString('hex').slice(0, n),
    };
  }
  let draw = seededDraw(String(seed));
  return {
    seeded: true,
    mix: (entropy) => {
      draw = seededDraw(`${draw()}|${draw()}|${entropy}`);
    },
    next: () => draw() / 2 ** 32,
    hex: (n) => {
      let out = '';
      while (out.length < n) {
        let word = draw();
        for (let i = 0; i < 8 && out.length < n; i++) {
          out += HEX[word & 15];
          word >>>= 4;
        }
      }
      return out;
    },
  };
}
