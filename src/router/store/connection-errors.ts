/** One clear line when a store cannot be reached: which server, at which URL (never its password), and why. */

export class StoreConnectionError extends Error {
  override readonly name = 'StoreConnectionError';
}

/** the URL without its password (and without any token-like query parameter) */
export function redactUrl(url: string): string {
  try {
    const parsed = new URL(url);
    if (parsed.password) parsed.password = '';
    for (const key of [...parsed.searchParams.keys()]) {
      if (/pass|secret|token/i.test(key)) parsed.searchParams.set(key, '***');
    }
    return parsed.toString();
  } catch {
    return '(an unparsable URL)';
  }
}

/** a socket error's reason; an AggregateError (every address of a host refused) has an empty message */
export function reasonOf(error: unknown): string {
  if (error instanceof AggregateError && error.errors.length > 0) return reasonOf(error.errors[0]);
  if (error instanceof Error) {
    const code = (error as { code?: unknown }).code;
    if (error.message) return error.message;
    if (typeof code === 'string') return code;
  }
  return String(error);
}

export function connectionError(what: string, url: string, error: unknown): StoreConnectionError {
  return new StoreConnectionError(`cannot use ${what} at ${redactUrl(url)}: ${reasonOf(error)}`);
}
