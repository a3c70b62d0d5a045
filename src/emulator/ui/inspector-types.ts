/**
 * The shapes of the inspector's API, written once: the server's answers are declared with them
 * (inspector-queries.ts, client-sessions.ts), and the page (page/, bundled by esbuild, checked by its own tsconfig)
 * reads them with them. Plain types, no imports: both programs compile this file.
 */

export interface ConversationSummary {
  sid: string;
  accountSid: string;
  chatServiceSid: string;
  uniqueName: string | null;
  friendlyName: string | null;
  state: string;
  dateCreated: string | null;
  dateUpdated: string | null;
}

export interface ConversationPage {
  conversations: ConversationSummary[];
  next: string | null;
}

export interface Scopes {
  accounts: { accountSid: string; friendlyName: string | null }[];
  services: { sid: string; accountSid: string; friendlyName: string | null }[];
}

export interface Handset {
  address: string;
  outcome: 'delivered' | 'undelivered' | 'failed';
  errorCode: number | null;
  read: boolean;
  progression: 'immediate' | 'manual' | { afterSeconds: number };
}

export interface Participant {
  sid: string;
  identity: string | null;
  channel: string;
  address: string | null;
  proxyAddress: string | null;
  projectedAddress: string | null;
  optedOut: boolean;
  reachability: string;
  handset: Handset | null;
  dateCreated: string | null;
}

export interface ConversationDetail {
  conversation: ConversationSummary & { attributes: string | null; messagingServiceSid: string | null };
  participants: Participant[];
  messageCount: number;
}

export interface Receipt {
  participantSid: string;
  status: string;
  errorCode: number | null;
  channelMessageSid: string | null;
}

export interface Message {
  sid: string;
  index: number;
  author: string | null;
  body: string | null;
  hasMedia: boolean;
  participantSid: string | null;
  dateCreated: string | null;
  receipts: Receipt[];
}

export interface MessagePage {
  messages: Message[];
  next: string | null;
}

/** GET /_emulator/ui/api/conversations/{sid}/webhooks: the newest deliveries, oldest first */
export interface DeliveryTimeline {
  deliveries: Delivery[];
  /** more deliveries than the timeline shows */
  earlierNotShown: boolean;
}

/** one attempt of a webhook delivery, as the control plane's journal (webhooks/service.ts) and the inspector show it */
export interface Attempt {
  at: string;
  retryCount: number;
  status: number | null;
  latencyMs: number;
  error: string | null;
}

export interface Delivery {
  id: number;
  eventType: string;
  kind: string;
  url: string;
  method: string;
  state: string;
  idempotencyToken: string;
  retryCount: number;
  attempts: Attempt[];
  duplicateOf: number | null;
  fault: string | null;
  createdAt: string | null;
  request: { method: string; url: string; headers: Record<string, string>; body: string | null };
}

export interface PhoneMessage {
  sid: string;
  direction: 'sent' | 'received';
  from: string;
  to: string;
  body: string | null;
  status: string;
  errorCode: number | null;
  conversationSid: string | null;
  date: string | null;
}

export interface Phone {
  address: string;
  channel: string;
  handset: Handset;
  optOuts: { sender: string; since: string }[];
  senders: string[];
  messages: PhoneMessage[];
}

export interface PhoneList {
  phones: Phone[];
}

export interface FaultRule {
  match: Record<string, string | undefined>;
  probability?: number;
  times?: number;
  action: { type: string } & Record<string, unknown>;
}

/** GET /_emulator/ui/api/clients (client-sessions.ts) */
export interface ClientSession {
  identity: string;
  accountSid: string;
  serviceSid: string;
  /** ISO 8601, when the socket opened */
  connectedSince: string;
  tokenExpiresAt: string;
  remoteAddress: string | null;
  requestsInFlight: number;
  subscriptions: {
    count: number;
    /** how many of each kind (conversation, messages, roster, user-info, …) */
    kinds: Record<string, number>;
    /** the first ids, sorted, with their kind */
    first: { id: string; kind: string }[];
  };
}

export interface ClientList {
  clients: ClientSession[];
  /** sessions past init (all of them, listed or not) */
  total: number;
  /** sockets open that have not sent a valid init yet */
  connecting: number;
  truncated: boolean;
}
