/** The inspector page: asks for the control token when the emulator wants one, then routes by the URL's hash. */
import { render } from 'preact';
import { useEffect, useState } from 'preact/hooks';
import { live, onUnauthorized, token } from './api';
import { ClientsView } from './views/clients';
import { ConversationView } from './views/conversation';
import { ConversationsView } from './views/conversations';
import { FaultsView } from './views/faults';
import { PhonesView } from './views/phones';

type Route = { view: 'conversations' } | { view: 'conversation'; sid: string } | { view: 'phones' } | { view: 'clients' } | { view: 'faults' };

function parse(hash: string): Route {
  const path = hash.replace(/^#/, '');
  const c = /^\/c\/([^/?]+)/.exec(path);
  if (c) return { view: 'conversation', sid: decodeURIComponent(c[1]) };
  if (path.startsWith('/phones')) return { view: 'phones' };
  if (path.startsWith('/clients')) return { view: 'clients' };
  if (path.startsWith('/faults')) return { view: 'faults' };
  return { view: 'conversations' };
}

function useRoute(): Route {
  const [route, setRoute] = useState(() => parse(location.hash));
  useEffect(() => {
    const on = () => {
      setRoute(parse(location.hash));
      // keyboard and screen-reader users land on the new view, not on the link they followed
      document.getElementById('main')?.focus();
    };
    addEventListener('hashchange', on);
    return () => removeEventListener('hashchange', on);
  }, []);
  return route;
}

/** 'open' until a call is refused for want of the token (no round trip before the first view renders) */
type Access = 'open' | 'token';

function TokenForm({ onDone, failed }: { onDone: () => void; failed: boolean }) {
  const [value, setValue] = useState('');
  return (
    <main id="main" class="token-gate">
      <h1>Control token</h1>
      <p>This emulator was started with <code>--control-token</code>. Enter the token to inspect it; it is kept for this browser tab only.</p>
      {failed && (
        <p class="error" role="alert">
          <strong>Error:</strong> that token was refused (401).
        </p>
      )}
      <form
        onSubmit={(e) => {
          e.preventDefault();
          token.set(value);
          onDone();
        }}
      >
        <label>
          Token
          <input type="password" autoComplete="off" value={value} onInput={(e) => setValue(e.currentTarget.value)} autoFocus />
        </label>
        <button type="submit" disabled={!value}>
          Continue
        </button>
      </form>
    </main>
  );
}

function App() {
  const route = useRoute();
  const [access, setAccess] = useState<Access>('open');
  const [refused, setRefused] = useState(false);
  const [connected, setConnected] = useState(false);

  useEffect(() => {
    const off = onUnauthorized(() => {
      live.stop();
      // several calls are refused at once: the first one, which still saw the token, says it was refused
      if (token.get() !== null) setRefused(true);
      token.clear();
      setAccess('token');
    });
    const offStatus = live.onStatus(setConnected);
    return () => {
      off();
      offStatus();
      live.stop();
    };
  }, []);

  // the live stream runs while the views show (after a token is given, the views mount again and so does it)
  useEffect(() => {
    if (access === 'open') live.start();
  }, [access]);

  if (access === 'token') return <TokenForm
        failed={refused}
        onDone={() => {
          setRefused(false);
          setAccess('open');
        }}
      />;

  const link = (href: string, label: string, active: boolean) => (
    <a href={href} aria-current={active ? 'page' : undefined}>
      {label}
    </a>
  );
  return (
    <>
      {/* the hash is the route: the skip link moves focus without changing it */}
      <a
        class="skip"
        href="#main"
        onClick={(e) => {
          e.preventDefault();
          document.getElementById('main')?.focus();
        }}
      >
        Skip to content
      </a>
      <header class="top">
        <span class="brand">tce inspector</span>
        <nav aria-label="Views">
          {link('#/conversations', 'Conversations', route.view === 'conversations' || route.view === 'conversation')}
          {link('#/phones', 'Phones', route.view === 'phones')}
          {link('#/clients', 'Clients', route.view === 'clients')}
          {link('#/faults', 'Faults and clock', route.view === 'faults')}
        </nav>
        <span class={`live ${connected ? 'on' : 'off'}`} role="status">
          {connected ? '● live' : '○ not live (reconnecting)'}
        </span>
      </header>
      <main id="main" tabIndex={-1}>
        {route.view === 'conversations' && <ConversationsView />}
        {route.view === 'conversation' && <ConversationView key={route.sid} sid={route.sid} />}
        {route.view === 'phones' && <PhonesView />}
        {route.view === 'clients' && <ClientsView />}
        {route.view === 'faults' && <FaultsView />}
      </main>
    </>
  );
}

render(<App />, document.getElementById('app') as HTMLElement);
