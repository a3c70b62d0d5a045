/**
 * Clients: the @twilio/conversations SDK sessions connected over twilsock, who they are, since when, and the Sync
 * objects each follows. Sessions come and go without a REST change, so the list is polled (every 2 s).
 */
import { useEffect } from 'preact/hooks';
import { get } from '../api';
import { ErrorBox, time } from '../components';
import { useData } from '../hooks';
import type { ClientList, ClientSession } from '../../inspector-types';

const POLL_MS = 2000;

export function ClientsView() {
  const list = useData(() => get<ClientList>('/_emulator/ui/api/clients'), []);
  useEffect(() => {
    const timer = setInterval(list.reload, POLL_MS);
    return () => clearInterval(timer);
  }, []);
  const data = list.data;
  return (
    <div>
      <h1>Clients</h1>
      <ErrorBox error={list.error} />
      {data && (
        <p class="small" role="status">
          {data.total} connected{data.connecting ? `, ${data.connecting} connecting` : ''}
          {data.truncated ? ` (the first ${data.clients.length} shown)` : ''} · refreshed every {POLL_MS / 1000} s
        </p>
      )}
      {data && data.total === 0 && <EmptyState />}
      {data && data.clients.length > 0 && (
        <table class="list">
          <caption class="visually-hidden">Connected client sessions, oldest first</caption>
          <thead>
            <tr>
              <th scope="col">Identity</th>
              <th scope="col">Service</th>
              <th scope="col">Connected since</th>
              <th scope="col">From</th>
              <th scope="col">In flight</th>
              <th scope="col">Subscriptions</th>
            </tr>
          </thead>
          <tbody>
            {data.clients.map((c, i) => (
              <ClientRow key={`${c.identity}|${c.connectedSince}|${i}`} client={c} />
            ))}
          </tbody>
        </table>
      )}
    </div>
  );
}

function ClientRow({ client: c }: { client: ClientSession }) {
  const kinds = Object.entries(c.subscriptions.kinds)
    .map(([kind, n]) => `${n} ${kind}`)
    .join(', ');
  return (
    <tr data-identity={c.identity}>
      <td>
        <strong>{c.identity}</strong>
      </td>
      <td class="mono small">
        {c.serviceSid}
        <br />
        {c.accountSid}
      </td>
      <td class="small">
        {time(c.connectedSince)}
        <br />
        token until {time(c.tokenExpiresAt)}
      </td>
      <td class="mono small">{c.remoteAddress ?? 'unknown'}</td>
      <td>{c.requestsInFlight}</td>
      <td data-subscriptions={c.subscriptions.count}>
        {c.subscriptions.count === 0 ? (
          'none'
        ) : (
          <details>
            <summary>
              {c.subscriptions.count} ({kinds})
            </summary>
            <ul class="small mono">
              {c.subscriptions.first.map((s) => (
                <li key={s.id}>
                  {s.id.startsWith('CH') ? <a href={`#/c/${s.id.split('.')[0]}`}>{s.id}</a> : s.id} <span class="small">{s.kind}</span>
                </li>
              ))}
              {c.subscriptions.count > c.subscriptions.first.length && <li>… and {c.subscriptions.count - c.subscriptions.first.length} more</li>}
            </ul>
          </details>
        )}
      </td>
    </tr>
  );
}

function EmptyState() {
  const uri = `${location.protocol === 'https:' ? 'wss' : 'ws'}://${location.host}/v3/wsconnect`;
  return (
    <div class="empty">
      <p>No client connected. Point the @twilio/conversations SDK at this emulator:</p>
      <pre>{`const client = new Client(token, { Twilsock: { uri: '${uri}' } });`}</pre>
      <p class="small">
        Mint a token with <code>tce token --identity alice</code> or <code>emulator.clientToken('alice')</code> in-process.
      </p>
    </div>
  );
}
