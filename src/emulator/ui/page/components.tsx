/** Small pieces the views share: status badges (colour AND words), errors, the time format. */
import type { ComponentChildren } from 'preact';

const FAILED = new Set(['failed', 'undelivered', 'dropped']);
const GOOD = new Set(['delivered', 'read', 'sent', 'received', 'active']);

/** A status in words, coloured by its kind; failures carry their error code in the text. */
export function Status({ status, code }: { status: string; code?: number | null }) {
  const tone = FAILED.has(status) ? 'bad' : GOOD.has(status) ? 'good' : 'neutral';
  const mark = tone === 'bad' ? '✕ ' : tone === 'good' ? '✓ ' : '… ';
  return (
    <span class={`badge ${tone}`}>
      <span aria-hidden="true">{mark}</span>
      {status}
      {code ? ` ${code}` : ''}
    </span>
  );
}

export function ErrorBox({ error }: { error: string | undefined }) {
  if (!error) return null;
  return (
    <p class="error" role="alert">
      <strong>Error:</strong> {error}
    </p>
  );
}

export function Section({ title, children, id }: { title: string; children: ComponentChildren; id?: string }) {
  return (
    <section aria-labelledby={id}>
      <h2 id={id}>{title}</h2>
      {children}
    </section>
  );
}

export function time(iso: string | null | undefined): string {
  if (!iso) return '';
  return iso.replace('T', ' ').replace(/\.\d+Z$/, 'Z');
}
