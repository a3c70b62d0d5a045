/**
 * One conversation: its participants, its messages (paged, newest page first, each with a receipt per
 * participant) and its webhook timeline, whose attempts open to show the signed request and "copy as curl".
 */
import { useState } from 'preact/hooks';
import { get } from '../api';
import { ErrorBox, Status, time } from '../components';
import { useData } from '../hooks';
import type { ConversationDetail, Delivery, DeliveryTimeline, MessagePage, Participant } from '../../inspector-types';

export function ConversationView({ sid }: { sid: string }) {
  const mine = (item: { kind: string; conversationSid?: string | null }) => item.kind === 'resource' && item.conversationSid === sid;
  const detail = useData(() => get<ConversationDetail>(`/_emulator/ui/api/conversations/${encodeURIComponent(sid)}`), [sid], mine);
  const c = detail.data?.conversation;
  return (
    <div>
      <p>
        <a href="#/conversations">← Conversations</a>
      </p>
      <h1>
        Conversation <span class="mono">{sid}</span>
      </h1>
      <ErrorBox error={detail.error} />
      {c && (
        <dl class="facts">
          <dt>FriendlyName</dt>
          <dd>{c.friendlyName ?? '—'}</dd>
          <dt>UniqueName</dt>
          <dd>{c.uniqueName ?? '—'}</dd>
          <dt>State</dt>
          <dd>
            <Status status={c.state} />
          </dd>
          <dt>Service</dt>
          <dd class="mono">{c.chatServiceSid}</dd>
          <dt>Messages</dt>
          <dd>{detail.data?.messageCount}</dd>
        </dl>
      )}
      {detail.data && <Participants participants={detail.data.participants} />}
      {detail.data && <Messages sid={sid} participants={detail.data.participants} />}
      <Timeline sid={sid} />
    </div>
  );
}

function Participants({ participants }: { participants: Participant[] }) {
  return (
    <section aria-labelledby="participants">
      <h2 id="participants">Participants ({participants.length})</h2>
      <table class="list">
        <thead>
          <tr>
            <th scope="col">Participant</th>
            <th scope="col">Channel</th>
            <th scope="col">Binding (address → proxy)</th>
            <th scope="col">Opt-out</th>
            <th scope="col">Reachability</th>
          </tr>
        </thead>
        <tbody>
          {participants.map((p) => (
            <tr key={p.sid} data-participant={p.sid}>
              <td>
                {p.identity ?? p.address}
                <div class="mono small">{p.sid}</div>
              </td>
              <td>{p.channel}</td>
              <td class="mono small">{p.address ? `${p.address} → ${p.proxyAddress ?? p.projectedAddress ?? '?'}` : '—'}</td>
              <td>{p.optedOut ? <span class="badge bad">✕ opted out (STOP)</span> : 'no'}</td>
              <td>{p.reachability === 'reachable' || p.reachability === 'chat' ? p.reachability : <span class="badge bad">✕ {p.reachability}</span>}</td>
            </tr>
          ))}
        </tbody>
      </table>
    </section>
  );
}

function Messages({ sid, participants }: { sid: string; participants: Participant[] }) {
  // cursors of the newer pages (Newer pops); the last one is this page's `before`
  const [trail, setTrail] = useState<string[]>([]);
  const before = trail[trail.length - 1];
  const page = useData(
    () => get<MessagePage>(`/_emulator/ui/api/conversations/${encodeURIComponent(sid)}/messages?limit=100${before ? `&before=${before}` : ''}`),
    [sid, before],
    (item) => item.conversationSid === sid && item.kind === 'resource' && (item.resource === 'ConversationMessage' || item.resource === 'ConversationMessageReceipt'),
  );
  const names = new Map(participants.map((p) => [p.sid, p.identity ?? p.address ?? p.sid]));
  return (
    <section aria-labelledby="messages">
      <h2 id="messages">Messages</h2>
      <ErrorBox error={page.error} />
      <nav class="pager" aria-label="Message pages">
        <button type="button" disabled={!page.data?.next} onClick={() => page.data?.next && setTrail([...trail, page.data.next])}>
          ↑ Older messages
        </button>
        <button type="button" disabled={trail.length === 0} onClick={() => setTrail(trail.slice(0, -1))}>
          ↓ Newer messages
        </button>
      </nav>
      <ol class="messages" tabIndex={0} aria-label="Messages, oldest at the top">
        {page.data?.messages.map((m) => (
          <li key={m.sid} data-message={m.sid}>
            <div class="message-head">
              <span class="small">#{m.index}</span> <strong>{m.author ?? 'system'}</strong> <span class="small">{time(m.dateCreated)}</span>
            </div>
            <div class="body">{m.body}{m.hasMedia ? ' [media]' : ''}</div>
            {m.receipts.length > 0 && (
              <ul class="receipts" aria-label="Receipts">
                {m.receipts.map((r) => (
                  <li key={r.participantSid} data-receipt-status={r.status} data-receipt-code={r.errorCode ?? ''}>
                    {names.get(r.participantSid) ?? r.participantSid}: <Status status={r.status} code={r.errorCode} />
                  </li>
                ))}
              </ul>
            )}
          </li>
        ))}
      </ol>
      {page.data && page.data.messages.length === 0 && <p>No messages yet.</p>}
    </section>
  );
}

/** curl that sends this request again, to the consumer it went to (single quotes escaped for sh). */
export function curlOf(d: Delivery): string {
  const q = (s: string) => `'${s.replace(/'/g, `'\\''`)}'`;
  const parts = [`curl -X ${d.request.method} ${q(d.request.url)}`];
  for (const [k, v] of Object.entries(d.request.headers)) parts.push(`-H ${q(`${k}: ${v}`)}`);
  if (d.request.body !== null) parts.push(`--data-raw ${q(d.request.body)}`);
  return parts.join(' \\\n  ');
}

function Timeline({ sid }: { sid: string }) {
  const data = useData(
    () => get<DeliveryTimeline>(`/_emulator/ui/api/conversations/${encodeURIComponent(sid)}/webhooks`),
    [sid],
    (item) => item.kind === 'webhook' && item.conversationSid === sid,
  );
  return (
    <section aria-labelledby="timeline">
      <h2 id="timeline">Webhook timeline</h2>
      <ErrorBox error={data.error} />
      {data.data && data.data.deliveries.length === 0 && <p>No webhook deliveries for this conversation.</p>}
      {data.data?.earlierNotShown && (
        <p class="small">
          The newest {data.data.deliveries.length} deliveries; the earlier ones are in{' '}
          <code>GET /_emulator/webhooks/deliveries?conversationSid={sid}</code>.
        </p>
      )}
      <ol class="timeline">
        {data.data?.deliveries.map((d) => <DeliveryItem key={d.id} d={d} />)}
      </ol>
    </section>
  );
}

function DeliveryItem({ d }: { d: Delivery }) {
  const [copied, setCopied] = useState<string>('');
  const curl = curlOf(d);
  const copy = async () => {
    try {
      await navigator.clipboard.writeText(curl);
      setCopied('Copied to the clipboard.');
    } catch {
      setCopied('The clipboard is not available here: select the command above and copy it.');
    }
  };
  return (
    <li class="delivery" data-delivery={d.id} data-token={d.idempotencyToken}>
      <div class="delivery-head">
        <strong>{d.eventType}</strong> <Status status={d.state} /> {d.fault && <span class="badge fault">fault: {d.fault}</span>}{' '}
        <span class="small">#{d.id}</span>
      </div>
      <div class="small mono">
        {d.method} {d.url}
      </div>
      <div class="small">
        idempotency token <span class="mono token">{d.idempotencyToken}</span> · retries {d.retryCount}
      </div>
      <table class="attempts">
        <thead>
          <tr>
            <th scope="col">Attempt at</th>
            <th scope="col">Retry</th>
            <th scope="col">HTTP status</th>
            <th scope="col">Latency</th>
            <th scope="col">Error</th>
          </tr>
        </thead>
        <tbody>
          {d.attempts.map((a, i) => (
            <tr key={i} class="attempt">
              <td class="small">{time(a.at)}</td>
              <td>{a.retryCount}</td>
              <td>{a.status === null ? <span class="badge bad">✕ no answer</span> : a.status >= 200 && a.status < 300 ? <span class="badge good">✓ {a.status}</span> : <span class="badge bad">✕ {a.status}</span>}</td>
              <td>{a.latencyMs} ms</td>
              <td class="small">{a.error ?? ''}</td>
            </tr>
          ))}
          {d.attempts.length === 0 && (
            <tr>
              <td colSpan={5} class="small">
                no attempt yet ({d.state})
              </td>
            </tr>
          )}
        </tbody>
      </table>
      <details>
        <summary>Signed request and copy as curl</summary>
        <table class="headers">
          <tbody>
            {Object.entries(d.request.headers).map(([k, v]) => (
              <tr key={k}>
                <th scope="row" class="mono small">{k}</th>
                <td class="mono small">{v}</td>
              </tr>
            ))}
          </tbody>
        </table>
        {d.request.body !== null && <pre class="body-raw">{d.request.body}</pre>}
        <label>
          curl
          <textarea readOnly rows={6} class="mono small" value={curl} />
        </label>
        <button type="button" onClick={copy}>
          Copy as curl
        </button>
        <span role="status" class="small">
          {copied}
        </span>
      </details>
    </li>
  );
}
