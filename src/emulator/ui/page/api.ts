/**
 * The page's HTTP side: JSON calls to the emulator (the inspector API and the control endpoints), with the
 * control token from sessionStorage, and the live stream of changes (read with fetch, which can send the token;
 * EventSource cannot).
 */

const TOKEN_KEY = 'tce.controlToken';
const REQUEST_TIMEOUT_MS = 15_000;

export class ApiError extends Error {
  constructor(
    readonly status: number,
    message: string,
    readonly code?: number,
  ) {
    super(message);
  }
}

export const token = {
  get: (): string | null => sessionStorage.getItem(TOKEN_KEY),
  set: (value: string) => sessionStorage.setItem(TOKEN_KEY, value),
  clear: () => sessionStorage.removeItem(TOKEN_KEY),
};

/** Listeners told when a call is refused for want of the token (the page then asks for it). */
const unauthorizedListeners = new Set<() => void>();
export function onUnauthorized(listener: () => void): () => void {
  unauthorizedListeners.add(listener);
  return () => unauthorizedListeners.delete(listener);
}

function headers(json: boolean): Record<string, string> {
  const h: Record<string, string> = { accept: 'application/json' };
  if (json) h['content-type'] = 'application/json';
  const t = token.get();
  if (t) h.authorization = `Bearer ${t}`;
  return h;
}

export async function call<T>(method: string, path: string, body?: unknown): Promise<T> {
  const controller = new AbortController();
  const timer = setTimeout(() => controller.abort(), REQUEST_TIMEOUT_MS);
  let res: Response;
  try {
    res = await fetch(path, { method, headers: headers(body !== undefined), body: body === undefined ? undefined : JSON.stringify(body), signal: controller.signal });
  } catch (error) {
    throw new ApiError(0, controller.signal.aborted ? `${method} ${path}: no answer within ${REQUEST_TIMEOUT_MS / 1000} s` : `${method} ${path}: the emulator cannot be reached`);
  } finally {
    clearTimeout(timer);
  }
  if (res.status === 401) for (const l of unauthorizedListeners) l();
  const text = await res.text();
  let data: unknown;
  try {
    data = text ? JSON.parse(text) : undefined;
  } catch {
    // not the emulator's JSON (a proxy's error page): the status says what happened
    if (res.ok) throw new ApiError(res.status, `${method} ${path}: the answer is not JSON`);
  }
  if (!res.ok) {
    const e = (data ?? {}) as { message?: string; code?: number };
    throw new ApiError(res.status, e.message ?? `${method} ${path} answered ${res.status}`, e.code);
  }
  return data as T;
}

export const get = <T>(path: string) => call<T>('GET', path);

export interface LiveItem {
  kind: 'resource' | 'webhook' | 'overflow';
  resource?: string;
  action?: string;
  sid?: string;
  conversationSid?: string | null;
}

type LiveListener = (items: LiveItem[]) => void;
type StatusListener = (connected: boolean) => void;

/** One stream for the whole page, reconnected after a failure; listeners get each batch of changes. */
class LiveStream {
  private readonly listeners = new Set<LiveListener>();
  private readonly statusListeners = new Set<StatusListener>();
  private controller?: AbortController;
  connected = false;

  subscribe(listener: LiveListener): () => void {
    this.listeners.add(listener);
    return () => this.listeners.delete(listener);
  }

  onStatus(listener: StatusListener): () => void {
    this.statusListeners.add(listener);
    return () => this.statusListeners.delete(listener);
  }

  private setConnected(value: boolean): void {
    this.connected = value;
    for (const l of this.statusListeners) l(value);
  }

  start(): void {
    this.stop();
    const controller = (this.controller = new AbortController());
    void this.run(controller);
  }

  stop(): void {
    this.controller?.abort();
    this.controller = undefined;
  }

  private async run(controller: AbortController): Promise<void> {
    while (!controller.signal.aborted) {
      try {
        const res = await fetch('/_emulator/ui/api/events', { headers: headers(false), signal: controller.signal });
        if (res.status === 401) {
          for (const l of unauthorizedListeners) l();
          return;
        }
        if (!res.ok || !res.body) throw new Error(`live stream answered ${res.status}`);
        this.setConnected(true);
        const reader = res.body.pipeThrough(new TextDecoderStream()).getReader();
        let buffer = '';
        for (;;) {
          const { value, done } = await reader.read();
          if (done) break;
          buffer += value;
          let end: number;
          while ((end = buffer.indexOf('\n\n')) >= 0) {
            const event = buffer.slice(0, end);
            buffer = buffer.slice(end + 2);
            const data = event
              .split('\n')
              .filter((l) => l.startsWith('data: '))
              .map((l) => l.slice(6))
              .join('\n');
            if (data) this.dispatch(JSON.parse(data) as LiveItem[]);
          }
        }
      } catch {
        // reconnects below
      }
      this.setConnected(false);
      if (controller.signal.aborted) return;
      await new Promise((r) => setTimeout(r, 2000));
    }
  }

  private dispatch(items: LiveItem[]): void {
    for (const l of this.listeners) l(items);
  }
}

export const live = new LiveStream();
