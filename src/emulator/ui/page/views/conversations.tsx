/** Conversations: search by SID, UniqueName or FriendlyName, filter by state and account/service, paged by cursor. */
import { useState } from 'preact/hooks';
import { get } from '../api';
import { ErrorBox, Status, time } from '../components';
import { useData } from '../hooks';
import type { ConversationPage, Scopes } from '../../inspector-types';

export function ConversationsView() {
  const [q, setQ] = useState('');
  const [state, setState] = useState('');
  const [scope, setScope] = useState('');
  const [applied, setApplied] = useState({ q: '', state: '', scope: '' });
  // cursors of the pages before this one (Back pops), and this page's
  const [trail, setTrail] = useState<string[]>([]);
  const after = trail[trail.length - 1];

  const scopes = useData(() => get<Scopes>('/_emulator/ui/api/scopes'), []);
  const page = useData(
    () => {
      const params = new URLSearchParams({ limit: '50' });
      if (applied.q) params.set('q', applied.q);
      if (applied.state) params.set('state', applied.state);
      if (applied.scope.startsWith('AC')) params.set('accountSid', applied.scope);
      else if (applied.scope) params.set('serviceSid', applied.scope);
      if (after) params.set('after', after);
      return get<ConversationPage>(`/_emulator/ui/api/conversations?${params}`);
    },
    [applied, after],
    (item) => item.kind === 'resource' && item.resource === 'Conversation',
  );

  const submit = (e: Event) => {
    e.preventDefault();
    setTrail([]);
    setApplied({ q, state, scope });
  };

  return (
    <div>
      <h1>Conversations</h1>
      <form class="filters" onSubmit={submit} role="search">
        <label>
          Search
          <input type="search" value={q} onInput={(e) => setQ(e.currentTarget.value)} placeholder="SID, UniqueName or FriendlyName" />
        </label>
        <label>
          State
          <select value={state} onChange={(e) => setState(e.currentTarget.value)}>
            <option value="">any</option>
            <option value="active">active</option>
            <option value="inactive">inactive</option>
            <option value="closed">closed</option>
          </select>
        </label>
        <label>
          Account / service
          <select value={scope} onChange={(e) => setScope(e.currentTarget.value)}>
            <option value="">all</option>
            {scopes.data?.accounts.map((a) => (
              <optgroup key={a.accountSid} label={`${a.accountSid}${a.friendlyName ? ` (${a.friendlyName})` : ''}`}>
                <option value={a.accountSid}>every service of {a.accountSid}</option>
                {scopes.data?.services
                  .filter((s) => s.accountSid === a.accountSid)
                  .map((s) => (
                    <option key={s.sid} value={s.sid}>
                      {s.sid} {s.friendlyName ?? ''}
                    </option>
                  ))}
              </optgroup>
            ))}
          </select>
        </label>
        <button type="submit">Search</button>
      </form>
      <ErrorBox error={page.error ?? scopes.error} />
      <table class="list" aria-busy={page.loading}>
        <caption class="visually-hidden">Conversations, newest first</caption>
        <thead>
          <tr>
            <th scope="col">SID</th>
            <th scope="col">FriendlyName</th>
            <th scope="col">UniqueName</th>
            <th scope="col">State</th>
            <th scope="col">Service</th>
            <th scope="col">Created</th>
          </tr>
        </thead>
        <tbody>
          {page.data?.conversations.map((c) => (
            <tr key={c.sid} data-sid={c.sid}>
              <td>
                <a href={`#/c/${c.sid}`} class="mono">
                  {c.sid}
                </a>
              </td>
              <td>{c.friendlyName}</td>
              <td>{c.uniqueName}</td>
              <td>
                <Status status={c.state} />
              </td>
              <td class="mono small">{c.chatServiceSid}</td>
              <td class="small">{time(c.dateCreated)}</td>
            </tr>
          ))}
        </tbody>
      </table>
      {page.data && page.data.conversations.length === 0 && <p>No conversation matches.</p>}
      <nav class="pager" aria-label="Pages">
        <button type="button" disabled={trail.length === 0} onClick={() => setTrail(trail.slice(0, -1))}>
          ← Newer
        </button>
        <button type="button" disabled={!page.data?.next} onClick={() => page.data?.next && setTrail([...trail, page.data.next])}>
          Older →
        </button>
      </nav>
    </div>
  );
}
