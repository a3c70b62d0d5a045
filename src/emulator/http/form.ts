/**
 * Form bodies as Twilio reads them: repeated keys become arrays (`Permission=a&Permission=b`), dotted keys stay
 * literal names (`Timers.Inactive`, `MessagingBinding.Address`) exactly as the spec names the parameters. Parsed by
 * @fastify/formbody (fast-querystring), registered once for the whole app in app.ts.
 */
export type RawParams = Record<string, string | string[]>;
