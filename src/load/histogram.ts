/**
 * Latency histogram: log-linear buckets over microseconds (128 sub-buckets per power of two, < 0.8 % error), so
 * percentiles so far cost a scan of a few thousand counters, not a sort of every sample. The max is exact.
 */
const SUB_BITS = 7;
const SUB = 1 << SUB_BITS;

export class Histogram {
  private readonly counts = new Float64Array(64 * SUB);
  count = 0;
  maxUs = 0;
  sumUs = 0;

  /** record one latency in milliseconds */
  record(ms: number): void {
    const us = Math.min(0x7fffffff, Math.max(0, Math.round(ms * 1000)));
    this.counts[bucketOf(us)]++;
    this.count++;
    this.sumUs += us;
    if (us > this.maxUs) this.maxUs = us;
  }

  /** the q-quantile (0..1) in milliseconds; 0 with no samples */
  quantile(q: number): number {
    if (this.count === 0) return 0;
    const rank = Math.max(1, Math.ceil(q * this.count));
    let seen = 0;
    for (let i = 0; i < this.counts.length; i++) {
      seen += this.counts[i];
      if (seen >= rank) return Math.min(valueOf(i), this.maxUs) / 1000;
    }
    return this.maxUs / 1000;
  }

  get maxMs(): number {
    return this.maxUs / 1000;
  }

  get meanMs(): number {
    return this.count === 0 ? 0 : this.sumUs / this.count / 1000;
  }
}

function bucketOf(us: number): number {
  if (us < SUB) return us;
  const exponent = 31 - Math.clz32(us) - SUB_BITS + 1; // ≥ 1
  const sub = us >>> exponent; // SUB/2 .. SUB-1
  return exponent * SUB + sub;
}

/** the upper-middle value of a bucket, in µs */
function valueOf(bucket: number): number {
  if (bucket < SUB) return bucket;
  const exponent = Math.floor(bucket / SUB);
  const sub = bucket % SUB;
  return (sub << exponent) + ((1 << exponent) >> 1);
}
