/**
 * Form bodies as Twilio reads them: repeated keys become arrays (`Permission=a&Permission=b`), dotted keys stay
 * literal names (`Timers.Inactive`, `MessagingBinding.Address`) exactly as the spec names the parameters. Parsed by
 * @fastify/formbody (fast-querystring), registered once for the whole app in app.ts.
 */
export type RawParams = Record<string, string | string[]>;

/** Form bodies arrive decoded by the parser; JSON bodies (not Twilio's, but handy for curl) are flattened to text values. */
export function paramsOf(value: unknown): RawParams {
  if (value === null || value === undefined || typeof value !== 'object') return {};
  const out: RawParams = {};
  for (const [key, v] of Object.entries(value as Record<string, unknown>)) {
    if (v === undefined || v === null) continue;
    out[key] = Array.isArray(v) ? v.map(String) : typeof v === 'object' ? JSON.stringify(v) : String(v);
  }
  return out;
}
