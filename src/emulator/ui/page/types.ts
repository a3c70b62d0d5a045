/** The shapes of the inspector API (../inspector-queries.ts) and the control endpoints the page calls. */

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

export interface FaultRule {
  match: Record<string, string | undefined>;
  probability?: number;
  times?: number;
  action: { type: string } & Record<string, unknown>;
}

/** GET /_emulator/ui/api/clients (../client-sessions.ts) */
export interface ClientSession {
  identity: string;
  accountSid: string;
  serviceSid: string;
  connectedSince: string;
  tokenExpiresAt: string;
  remoteAddress: string | null;
  requestsInFlight: number;
  subscriptions: { count: number; kinds: Record<string, number>; first: { id: string; kind: string }[] };
}

export interface ClientList {
  clients: ClientSession[];
  total: number;
  connecting: number;
  truncated: boolean;
}
