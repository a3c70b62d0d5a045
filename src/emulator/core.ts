/**
 * The emulator's state and services, without HTTP: the store, clock, random source, accounts, route table and
 * event sink. The REST and control plugins both call into this; so does the in-process handle.
 */
import { loadManifest } from '../contracts/spec.js';
import { Accounts, type Account } from './accounts.js';
import { Clock, type ClockMode } from './clock.js';
import { createRandom, type RandomSource } from './random.js';
import { Database, type Durability } from './store/database.js';
import { indexSql, migrations, undeclaredIndexes } from './store/schema.js';
import type { EventSink, OperationContext, ResourceEvent, Services } from './resources/context.js';
import { descendantsOf, descriptorNamed, descriptors } from './resources/registry.js';
import { sweepDueTimers, TimerSchedule } from './resources/conversations/timers.js';
import { seedService } from './resources/services.js';
import { createTransport } from './webhooks/transport.js';
import { WebhookService } from './webhooks/service.js';
import { ChannelService } from './channel/service.js';
import { RateLimiter } from './http/limits.js';
import { RestFaults } from './http/rest-faults.js';
import { RequestLog } from './http/request-log.js';
import { create, represent } from './resources/engine.js';
import { invalidParameter, twilioError } from './wire/errors.js';
import { routeTableFor, type RouteTable } from './http/routes.js';

export const DEFAULT_SERVICE_NAME = 'Default Conversations Service';

export interface CoreOptions {
  /** SQLite file, or ':memory:' (default) */
  db?: string;
  /** makes every SID and random draw repeatable */
  seed?: string | number;
  /** 'manual' freezes time until advanced; a number starts the clock at that epoch ms */
  clock?: ClockMode | { mode: ClockMode; start?: number };
  /** where webhook requests are sent from: a thread of their own (default) or the main thread */
  webhookTransport?: 'worker' | 'inline';
  /** how hard each commit is pushed to disk (store/database.ts); default 'off' */
  durability?: Durability;
}

/**
 * Fans changes out. `onWrite` listeners run inside the change's transaction (the webhook outbox is written
 * there, so an acknowledged change never loses its webhook); `subscribe` listeners run after it commits, and
 * never for a refused write.
 */
export class EventLog implements EventSink {
  private readonly writers = new Set<(event: ResourceEvent) => void>();
  private readonly listeners = new Set<(event: ResourceEvent) => void>();
  constructor(private readonly db: Database) {}
  emit(event: ResourceEvent): void {
    for (const writer of this.writers) writer(event);
    if (this.listeners.size === 0) return;
    this.db.afterCommit(() => {
      for (const listener of this.listeners) listener(event);
    });
  }
  onWrite(writer: (event: ResourceEvent) => void): () => void {
    this.writers.add(writer);
    return () => this.writers.delete(writer);
  }
  subscribe(listener: (event: ResourceEvent) => void): () => void {
    this.listeners.add(listener);
    return () => this.listeners.delete(listener);
  }
}

/** The body of `POST /_emulator/push-bindings`. */
export interface PushBindingInput {
  chatServiceSid?: string;
  identity?: string;
  bindingType?: string;
  address?: string;
  credentialSid?: string;
  messageTypes?: string[];
}

export class EmulatorCore implements Services {
  readonly db: Database;
  readonly clock: Clock;
  readonly random: RandomSource;
  readonly events: EventLog;
  readonly accounts: Accounts;
  readonly routes: RouteTable;
  readonly timers: TimerSchedule;
  readonly webhooks: WebhookService;
  readonly channel: ChannelService;
  /** per-account REST rate limits (off until set) */
  readonly limits = new RateLimiter();
  readonly restFaults: RestFaults;
  /** the last REST requests answered (in memory only, bounded) */
  readonly requestLog = new RequestLog();
  readonly startedAt: number;
  private readonly stopClockListener: () => void;

  constructor(options: CoreOptions = {}) {
    const clock = typeof options.clock === 'string' ? { mode: options.clock } : options.clock;
    this.clock = new Clock(clock);
    this.startedAt = Date.now();
    this.random = createRandom(options.seed);
    this.db = new Database(options.db ?? ':memory:', options.durability);
    const indexes = descriptors.map(indexSql).join('\n');
    this.db.migrate(migrations(descriptors), indexes);
    const existing = this.db.all("SELECT name, tbl_name FROM sqlite_master WHERE type = 'index'") as { name: string; tbl_name: string }[];
    const obsolete = undeclaredIndexes(existing, descriptors.map((d) => d.table), indexes);
    if (obsolete) this.db.raw.exec(obsolete);
    this.timers = new TimerSchedule(this.db);
    this.events = new EventLog(this.db);
    this.accounts = new Accounts(this.db, this.clock, this.random, (accountSid, serviceSid, now) =>
      this.insertDefaultService(accountSid, serviceSid, now),
    );
    this.routes = routeTableFor(loadManifest());
    this.webhooks = new WebhookService(this.db, this.clock, this.random, this.events, this.accounts, createTransport(options.webhookTransport));
    this.webhooks.start();
    this.restFaults = new RestFaults(this.random);
    this.channel = new ChannelService(this);
    this.channel.start();
    // Moving the clock moves every timer that fell due, before the caller's next request.
    this.stopClockListener = this.clock.onChange(() => sweepDueTimers(this));
  }

  descriptor(name: string) {
    const d = descriptorNamed(name);
    if (!d) throw new Error(`no resource named ${name}`);
    return d;
  }

  descendants(name: string) {
    return descendantsOf(name);
  }

  private insertDefaultService(accountSid: string, serviceSid: string, now: number): void {
    this.db.run(
      'INSERT INTO services (sid, account_sid, friendly_name, date_created, date_updated) VALUES (?, ?, ?, ?, ?)',
      serviceSid, accountSid, DEFAULT_SERVICE_NAME, now, now,
    );
    seedService(this, accountSid, serviceSid, now);
  }

  /**
   * Empty every resource table (of one account, or all), keeping accounts, keys and default services; the
   * request log forgets the same requests.
   */
  reset(accountSid?: string): void {
    this.db.transaction(() => {
      for (const d of [...descriptors].reverse()) {
        if (accountSid) this.db.run(`DELETE FROM ${d.table} WHERE account_sid = ?`, accountSid);
        else this.db.run(`DELETE FROM ${d.table}`);
      }
      if (!accountSid) this.db.run('DELETE FROM page_anchors');
      this.webhooks.reset(accountSid);
      this.channel.reset(accountSid);
      const accounts: Account[] = accountSid ? [this.accounts.get(accountSid)].filter((a): a is Account => !!a) : this.accounts.list();
      for (const account of accounts) {
        // The account keeps its default service SID (recreated empty); default timers set through
        // /v1/Configuration are cleared, so one test's configuration does not leak into the next.
        this.insertDefaultService(account.sid, account.defaultServiceSid, this.clock.now());
        this.accounts.update(account.sid, { defaultInactiveTimer: null, defaultClosedTimer: null });
      }
    });
    this.timers.forget();
    this.requestLog.clear(accountSid);
  }

  /** A context for work done on an account's behalf outside a request (control plane, timers, channel). */
  systemContext(account: Account, baseUrl: string): OperationContext {
    return {
      ...this.servicesView(),
      account,
      scope: 'default',
      parents: {},
      requestPath: '',
      baseUrl,
      urlOf: (resource, row) => this.routes.urlOf('default', resource, row, baseUrl),
      webhookEnabled: true,
      source: 'API',
    };
  }

  servicesView(): Services {
    return {
      db: this.db,
      clock: this.clock,
      random: this.random,
      events: this.events,
      accounts: this.accounts,
      timers: this.timers,
      descriptor: (name) => this.descriptor(name),
      descendants: (name) => this.descendants(name),
    };
  }

  /**
   * A push binding (BS), as a client SDK registers one at Twilio; answered in the REST representation.
   * The service and credential must belong to the same account.
   */
  createPushBinding(input: PushBindingInput, baseUrl: string): Record<string, unknown> {
    const missing = (['chatServiceSid', 'identity', 'bindingType', 'address', 'credentialSid'] as const).filter((k) => !input[k]);
    if (missing.length) throw invalidParameter(`Missing ${missing.join(', ')}`);
    if (!['apn', 'gcm', 'fcm', 'twilsock'].includes(input.bindingType as string)) {
      throw invalidParameter(`bindingType must be one of apn, gcm, fcm, twilsock`);
    }
    const service = this.db.get('SELECT * FROM services WHERE sid = ?', input.chatServiceSid as string);
    if (!service) throw twilioError('NotFound', { path: `/Services/${input.chatServiceSid}` });
    const account = this.accounts.get(service.account_sid as string) as Account;
    const credential = this.db.get('SELECT sid FROM credentials WHERE sid = ? AND account_sid = ?', input.credentialSid as string, account.sid);
    if (!credential) throw twilioError('NotFound', { path: `/Credentials/${input.credentialSid}` });
    const ctx = { ...this.systemContext(account, baseUrl), parents: { Service: service } };
    const d = this.descriptor('ServiceBinding');
    // the binding and its answer are one transaction: an answer that cannot be built stores nothing
    return this.db.transaction(() => represent(ctx, d, create(ctx, d, {}, {
      identity: input.identity as string,
      binding_type: input.bindingType as string,
      endpoint: input.address as string,
      credential_sid: input.credentialSid as string,
      ...(input.messageTypes ? { message_types: JSON.stringify(input.messageTypes) } : {}),
    })));
  }

  /** Stop delivering (pending deliveries stay in the outbox for the next start) and close the store. */
  async shutdown(): Promise<void> {
    this.channel.stop();
    await this.webhooks.stop();
    this.close();
  }

  close(): void {
    this.channel.stop();
    this.stopClockListener();
    this.db.close();
  }
}
