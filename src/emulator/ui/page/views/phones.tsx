/**
 * Phones: one card per handset address, showing what it received and sent as a phone would, with its buttons:
 * reply, STOP, START, HELP (POST /_emulator/inbound), the outcome of the next messages (PUT
 * /_emulator/handsets/{address}) and one step for messages held by a manual handset (…/advance).
 */
import { useEffect, useRef, useState } from 'preact/hooks';
import { call, get } from '../api';
import { ErrorBox, Status, time } from '../components';
import { useAction, useData } from '../hooks';
import type { Phone, PhoneList } from '../../inspector-types';

export function PhonesView() {
  const phones = useData(
    () => get<PhoneList>('/_emulator/ui/api/phones'),
    [],
    (item) => item.kind === 'resource' && (item.resource === 'ConversationMessage' || item.resource === 'ConversationMessageReceipt' || item.resource === 'ConversationParticipant'),
  );
  return (
    <div>
      <h1>Phones</h1>
      <ErrorBox error={phones.error} />
      {phones.data && phones.data.phones.length === 0 && <p>No handset yet: add an SMS or WhatsApp participant to a conversation.</p>}
      <div class="phones">
        {phones.data?.phones.map((p) => <PhoneCard key={p.address} phone={p} reload={phones.reload} />)}
      </div>
    </div>
  );
}

function PhoneCard({ phone, reload }: { phone: Phone; reload: () => void }) {
  const [to, setTo] = useState(phone.senders[0] ?? '');
  const [text, setText] = useState('');
  const [outcome, setOutcome] = useState<string>(phone.handset.outcome);
  const [errorCode, setErrorCode] = useState<string>(phone.handset.errorCode ? String(phone.handset.errorCode) : '');
  const [progression, setProgression] = useState<string>(typeof phone.handset.progression === 'string' ? phone.handset.progression : 'immediate');
  const action = useAction();
  // like a phone: the newest message in view
  const screen = useRef<HTMLOListElement>(null);
  const newest = phone.messages[phone.messages.length - 1];
  useEffect(() => {
    if (screen.current) screen.current.scrollTop = screen.current.scrollHeight;
  }, [newest?.sid, newest?.status]);
  const id = `phone-${phone.address.replace(/[^a-zA-Z0-9]/g, '')}`;
  const address = encodeURIComponent(phone.address);

  const send = async (body: string) => {
    if (!to) return;
    const ok = await action.run(() => call('POST', '/_emulator/inbound', { From: phone.address, To: to, Body: body }));
    if (ok && body === text) setText('');
    reload();
  };
  const script = async (e: Event) => {
    e.preventDefault();
    await action.run(() =>
      call('PUT', `/_emulator/handsets/${address}`, {
        outcome,
        ...(outcome !== 'delivered' && errorCode ? { errorCode: Number(errorCode) } : {}),
        progression,
      }),
    );
    reload();
  };
  const advance = async () => {
    await action.run(() => call('POST', `/_emulator/handsets/${address}/advance`));
    reload();
  };

  return (
    <article class="phone" aria-labelledby={id} data-address={phone.address}>
      <h2 id={id}>
        {phone.address} <span class="small">({phone.channel})</span>
      </h2>
      <p class="small">
        next messages: <Status status={phone.handset.outcome} code={phone.handset.errorCode} />, {typeof phone.handset.progression === 'string' ? phone.handset.progression : `every ${phone.handset.progression.afterSeconds} s`}
      </p>
      {phone.optOuts.map((o) => (
        <p key={o.sender} class="badge bad opt-out">
          ✕ opted out of {o.sender} (STOP) since {time(o.since)}
        </p>
      ))}
      <ol class="screen" ref={screen} aria-label={`Messages of ${phone.address}`} tabIndex={0}>
        {phone.messages.map((m) => (
          <li key={m.sid} class={`bubble ${m.direction}`}>
            <div class="small">
              {m.direction === 'received' ? `from ${m.from}` : `to ${m.to}`} · {time(m.date)}
            </div>
            <div>{m.body}</div>
            {m.direction === 'received' && (
              <div class="small">
                <Status status={m.status} code={m.errorCode} />
              </div>
            )}
          </li>
        ))}
      </ol>
      <ErrorBox error={action.error} />
      <form
        class="reply"
        onSubmit={(e) => {
          e.preventDefault();
          void send(text);
        }}
      >
        <label>
          To
          <select value={to} onChange={(e) => setTo(e.currentTarget.value)}>
            {phone.senders.map((s) => (
              <option key={s} value={s}>
                {s}
              </option>
            ))}
          </select>
        </label>
        <label>
          Reply
          <input value={text} onInput={(e) => setText(e.currentTarget.value)} />
        </label>
        <button type="submit" disabled={action.busy || !to || !text}>
          Send
        </button>
      </form>
      <div class="keywords" role="group" aria-label="Keywords">
        {['STOP', 'START', 'HELP'].map((k) => (
          <button key={k} type="button" disabled={action.busy || !to} onClick={() => void send(k)}>
            Send {k}
          </button>
        ))}
      </div>
      <form class="outcome" onSubmit={script}>
        <label>
          Outcome
          <select value={outcome} onChange={(e) => setOutcome(e.currentTarget.value)}>
            <option value="delivered">delivered</option>
            <option value="undelivered">undelivered</option>
            <option value="failed">failed</option>
          </select>
        </label>
        <label>
          Error code
          <input inputMode="numeric" size={6} value={errorCode} disabled={outcome === 'delivered'} onInput={(e) => setErrorCode(e.currentTarget.value)} placeholder={outcome === 'failed' ? '30008' : '30003'} />
        </label>
        <label>
          Progression
          <select value={progression} onChange={(e) => setProgression(e.currentTarget.value)}>
            <option value="immediate">immediate</option>
            <option value="manual">manual (Advance)</option>
          </select>
        </label>
        <button type="submit" disabled={action.busy}>
          Set outcome
        </button>
        <button type="button" disabled={action.busy} onClick={advance}>
          Advance
        </button>
      </form>
    </article>
  );
}
