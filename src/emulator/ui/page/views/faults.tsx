/** Faults and clock: the webhook and REST fault rules (list, add, remove) and the manual clock. */
import { useState } from 'preact/hooks';
import { call, get } from '../api';
import { ErrorBox } from '../components';
import { useAction, useData } from '../hooks';
import type { FaultRule } from '../../inspector-types';

type Kind = 'webhooks' | 'rest';

const ACTIONS: Record<Kind, string[]> = {
  webhooks: ['duplicate', 'reorder', 'delay', 'drop', 'fail'],
  rest: ['error', 'delay', 'reset', 'empty'],
};

export function FaultsView() {
  return (
    <div>
      <h1>Faults and clock</h1>
      <Rules kind="webhooks" title="Webhook fault rules" />
      <Rules kind="rest" title="REST fault rules" />
      <ClockPanel />
    </div>
  );
}

export function describe(rule: FaultRule): string {
  const { type, ...params } = rule.action;
  const match = Object.entries(rule.match).filter(([, v]) => v !== undefined);
  const p = Object.entries(params).filter(([, v]) => v !== undefined).map(([k, v]) => `${k} ${JSON.stringify(v)}`);
  return `${type}${p.length ? ` (${p.join(', ')})` : ''} when ${match.length ? match.map(([k, v]) => `${k} = ${v}`).join(' and ') : 'anything'}${rule.probability !== undefined && rule.probability !== 1 ? `, probability ${rule.probability}` : ''}${rule.times !== undefined ? `, ${rule.times} times` : ''}`;
}

function Rules({ kind, title }: { kind: Kind; title: string }) {
  const path = `/_emulator/faults/${kind}`;
  const rules = useData(() => get<{ rules: FaultRule[] }>(path), [kind]);
  const action = useAction();
  const [type, setType] = useState(ACTIONS[kind][0]);
  const [param, setParam] = useState('');
  const [matchA, setMatchA] = useState('');
  const [matchB, setMatchB] = useState('');
  const [times, setTimes] = useState('');
  const id = `rules-${kind}`;

  const save = async (next: FaultRule[]) => {
    await action.run(() => call('PUT', path, { rules: next }));
    rules.reload();
  };

  const add = async (e: Event) => {
    e.preventDefault();
    const a: Record<string, unknown> = { type };
    const n = param === '' ? undefined : Number(param);
    if (n !== undefined) {
      if (type === 'duplicate') a.count = n;
      else if (type === 'reorder') a.window = n;
      else if (type === 'delay') a.ms = n;
      else if (type === 'fail' || type === 'error' || type === 'empty') a.status = n;
    }
    const match: Record<string, string> = {};
    if (kind === 'webhooks') {
      if (matchA) match.eventType = matchA;
      if (matchB) match.conversationSid = matchB;
    } else {
      if (matchA) match.method = matchA;
      if (matchB) match.path = matchB;
    }
    const rule: FaultRule = { match, action: a as FaultRule['action'], ...(times ? { times: Number(times) } : {}) };
    await save([...(rules.data?.rules ?? []), rule]);
  };

  const paramLabel: Record<string, string> = { duplicate: 'Copies', reorder: 'Window', delay: 'Delay (ms)', fail: 'HTTP status', error: 'HTTP status', empty: 'HTTP status' };

  return (
    <section aria-labelledby={id} class="rules" data-kind={kind}>
      <h2 id={id}>{title}</h2>
      <ErrorBox error={rules.error ?? action.error} />
      <ol class="rule-list">
        {rules.data?.rules.map((r, i) => (
          <li key={i}>
            <span>
              {i + 1}. {describe(r)}
            </span>{' '}
            <button type="button" onClick={() => save(rules.data!.rules.filter((_, j) => j !== i))} aria-label={`Remove rule ${i + 1}: ${describe(r)}`}>
              Remove
            </button>
          </li>
        ))}
      </ol>
      {rules.data && rules.data.rules.length === 0 && <p>No rule: everything goes through.</p>}
      <form class="add-rule" onSubmit={add}>
        <label>
          Action
          <select value={type} onChange={(e) => setType(e.currentTarget.value)} name="type">
            {ACTIONS[kind].map((t) => (
              <option key={t} value={t}>
                {t}
              </option>
            ))}
          </select>
        </label>
        {paramLabel[type] && (
          <label>
            {paramLabel[type]}
            <input inputMode="numeric" size={6} value={param} onInput={(e) => setParam(e.currentTarget.value)} name="param" />
          </label>
        )}
        <label>
          {kind === 'webhooks' ? 'Event type' : 'Method'}
          <input value={matchA} onInput={(e) => setMatchA(e.currentTarget.value)} placeholder={kind === 'webhooks' ? 'onMessageAdded' : 'POST'} name="matchA" />
        </label>
        <label>
          {kind === 'webhooks' ? 'Conversation SID' : 'Path (glob)'}
          <input value={matchB} onInput={(e) => setMatchB(e.currentTarget.value)} placeholder={kind === 'webhooks' ? 'CH…' : '/v1/Conversations*'} name="matchB" />
        </label>
        <label>
          Times
          <input inputMode="numeric" size={4} value={times} onInput={(e) => setTimes(e.currentTarget.value)} placeholder="∞" name="times" />
        </label>
        <button type="submit" disabled={action.busy}>
          Add rule
        </button>
      </form>
    </section>
  );
}

function ClockPanel() {
  // POST /_emulator/clock with no field answers the clock as it is
  const clock = useData(() => call<{ now: string; mode: string }>('POST', '/_emulator/clock', {}), []);
  const action = useAction();
  const [seconds, setSeconds] = useState('60');
  const post = async (body: Record<string, unknown>) => {
    await action.run(() => call('POST', '/_emulator/clock', body));
    clock.reload();
  };
  return (
    <section aria-labelledby="clock">
      <h2 id="clock">Clock</h2>
      <ErrorBox error={clock.error ?? action.error} />
      {clock.data && (
        <p>
          Now <span class="mono" data-clock-now>{clock.data.now}</span>, mode <strong>{clock.data.mode}</strong>
        </p>
      )}
      <div class="row">
        <button type="button" onClick={() => post({ mode: 'manual' })} disabled={action.busy}>
          Manual mode
        </button>
        <button type="button" onClick={() => post({ mode: 'real' })} disabled={action.busy}>
          Real mode
        </button>
        <form
          class="row"
          onSubmit={(e) => {
            e.preventDefault();
            void post({ advanceSeconds: Number(seconds) });
          }}
        >
          <label>
            Seconds
            <input inputMode="numeric" size={6} value={seconds} onInput={(e) => setSeconds(e.currentTarget.value)} />
          </label>
          <button type="submit" disabled={action.busy}>
            Advance clock
          </button>
        </form>
      </div>
    </section>
  );
}
