/**
 * The spec's properties in spec order, missing ones as null: one compiled object literal per property list (a
 * list page projects every row; a generic loop of keyed loads and stores is several times slower).
 */
export type Projection = (wire: Record<string, unknown>) => Record<string, unknown>;

/** compiled once per property list per process: every emulator a test suite starts reuses them */
const projections = new Map<string, Projection>();

export function projection(properties: readonly string[]): Projection {
  const key = properties.join(',');
  let compiled = projections.get(key);
  if (!compiled) projections.set(key, (compiled = compileProjection(properties)));
  return compiled;
}

function compileProjection(properties: readonly string[]): Projection {
  if (properties.includes('__proto__')) {
    return (wire) => {
      const out: Record<string, unknown> = {};
      for (const key of properties) {
        const value = wire[key];
        out[key] = value === undefined ? null : value;
      }
      return out;
    };
  }
  const q = JSON.stringify;
  const fields = properties.map((key) => `${q(key)}: w[${q(key)}] === undefined ? null : w[${q(key)}]`);
  return new Function('w', `return {${fields.join(', ')}};`) as Projection;
}
