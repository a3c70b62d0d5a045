/**
 * The error catalogue: every Twilio error the emulator can answer, declared once and raised by name
 * (`throw twilioError('UniqueNameTaken', { uniqueName })`). Nothing else builds an error body.
 * Statuses that real Twilio has not been seen to send are the house decisions of
 * ../shared/reference/decisions.md; they live here and only here.
 */

interface CatalogueEntry {
  code: number;
  status: number;
  /** message template; `{name}` placeholders are filled from the params */
  message: string;
}

export const errorCatalogue = {
  // generic
  InvalidParameter: { code: 20001, status: 400, message: '{message}' },
  MissingParameter: { code: 20001, status: 400, message: 'Missing required parameter {name} in the {where}' },
  InvalidPageSize: { code: 20001, status: 400, message: 'Invalid PageSize: {value}. PageSize must be an integer between 1 and 100' },
  InvalidPageToken: { code: 21481, status: 400, message: 'Invalid PageToken: {value}' },
  Unauthenticated: { code: 20003, status: 401, message: 'Authenticate' },
  NotFound: { code: 20404, status: 404, message: 'The requested resource {path} was not found' },
  MethodNotAllowed: { code: 20004, status: 405, message: 'Method {method} not allowed on {path}' },
  UnsupportedMediaType: { code: 20001, status: 415, message: 'Unsupported Content-Type: {contentType}' },
  PayloadTooLarge: { code: 20001, status: 413, message: 'Request body too large' },
  MalformedUrl: { code: 20001, status: 400, message: 'Invalid URL {path}: malformed percent-encoding' },
  JsonTooDeep: { code: 20001, status: 400, message: '{what}: arrays and objects nested deeper than {limit} levels' },
  MalformedRequest: { code: 20001, status: 400, message: 'Malformed HTTP request' },
  RequestTimeout: { code: 20001, status: 408, message: 'The request (headers and body) did not arrive within {seconds} seconds' },
  HeadersTooLarge: { code: 20001, status: 431, message: 'Request headers too large' },
  InternalError: { code: 20500, status: 500, message: 'Internal Server Error' },
  TooManyRequests: { code: 20429, status: 429, message: 'Too Many Requests' },
  /** an injected REST fault: status, code and message come from the rule (this entry is the default) */
  InjectedFault: { code: 20500, status: 500, message: '{message}' },
  TestCredentialsNotAccepted: { code: 20008, status: 403, message: 'Resource not accessible with Test Account Credentials' },
  PreWebhookRejected: { code: 20403, status: 403, message: 'The {eventType} pre-event webhook {url} refused the action (HTTP {status})' },
  // services (the Chat service range 500xx, whose length codes serve every resource)
  FriendlyNameTooLong: { code: 50003, status: 400, message: '{resource} FriendlyName is too long: {length} characters, the limit is {limit}' },
  UniqueNameTooLong: { code: 50004, status: 400, message: '{resource} UniqueName is too long: {length} characters, the limit is {limit}' },
  DefaultServiceNotDeletable: { code: 50105, status: 400, message: 'The default Conversation Service {sid} cannot be deleted while it is the account default' },
  AddressConfigurationExists: { code: 50351, status: 409, message: 'An address configuration for {address} already exists' },
  // users (the Chat "user" range 502xx)
  UserExists: { code: 50201, status: 409, message: 'User with identity {identity} already exists' },
  IdentityMissing: { code: 50204, status: 400, message: '{reason}' },
  IdentityWithAddress: { code: 50211, status: 400, message: 'Identity parameter not acceptable for this Participant: give an Identity (chat) or a MessagingBinding.Address (SMS, WhatsApp), not both' },
  // conversations (the Chat "channel" range 503xx)
  AttributesTooLong: { code: 50303, status: 400, message: '{resource} Attributes are too long: {length} bytes, the limit is {limit}' },
  AttributesNotJson: { code: 50304, status: 400, message: '{resource} Attributes must be valid JSON' },
  UniqueNameTaken: { code: 50353, status: 409, message: 'Conversation with provided unique name already exists' },
  InactiveTimerTooShort: { code: 50375, status: 400, message: '{name} should be greater or equal to 1 minute: {value}' },
  ClosedTimerTooShort: { code: 50376, status: 400, message: '{name} should be greater or equal to 10 minutes: {value}' },
  InvalidInactiveTimer: { code: 50379, status: 400, message: '{name} format is invalid: {value}. {reason}' },
  InvalidClosedTimer: { code: 50380, status: 400, message: '{name} format is invalid: {value}. {reason}' },
  ConversationClosed: { code: 50377, status: 400, message: "Can't update conversation as it's in final closed state" },
  InitialStateClosed: { code: 50384, status: 400, message: "Initial state can't be 'closed'" },
  WebhookLimit: { code: 50361, status: 400, message: 'A conversation can have at most {limit} scoped webhooks' },
  UniqueNameLooksLikeSid: { code: 50390, status: 400, message: 'UniqueName can not match the Conversation SID pattern' },
  // participants (the "member" range 504xx)
  InvalidBindingAddress: { code: 50407, status: 400, message: 'Invalid messaging binding address: {reason}' },
  InvalidProxyAddress: { code: 50408, status: 400, message: 'Invalid messaging binding proxy address: {reason}' },
  EmptyAddress: { code: 50411, status: 400, message: 'Messaging binding address can not be empty' },
  BindingAlreadyExists: { code: 50416, status: 409, message: 'A binding for this participant and proxy address already exists in Conversation {conversationSid}' },
  ParticipantExists: { code: 50433, status: 409, message: 'Participant already exists' },
  ParticipantLimit: { code: 50417, status: 400, message: 'Participants limit exceeded: a conversation can have at most {limit} participants' },
  BindingParameterNotSupported: { code: 50420, status: 400, message: '{reason}' },
  NonChatParticipantLimit: { code: 50422, status: 400, message: 'Non-chat conversation participants limit exceeded: a conversation can have at most {limit} of them' },
  TooManyParticipantsInRequest: { code: 50426, status: 400, message: 'Request contains too many participants: at most {limit} can be added in one request' },
  ProjectedAddressNotAllowed: { code: 50443, status: 400, message: 'Failed to add a projected address to a participant: an SMS or WhatsApp participant has a messaging binding' },
  IdentityNotAllowed: { code: 50444, status: 400, message: 'Failed to add an identity to a participant: an SMS or WhatsApp participant has no Identity' },
  // messages (505xx)
  MessageBodyMissing: { code: 50503, status: 400, message: 'Message body is required: send Body, MediaSid or ContentSid' },
  MessageBodyTooLong: { code: 50504, status: 400, message: 'Message body parameter is too long: {length} characters, the limit is {limit}' },
  InvalidMediaSid: { code: 50510, status: 400, message: 'Invalid MediaSid: {value}' },
  ContentVariableTooLong: { code: 50541, status: 400, message: 'ContentVariables values are limited to {limit} characters; {key} has {length}' },
  // Programmable Messaging (api.twilio.com/2010-04-01 Messages)
  MessagingBodyRequired: { code: 21602, status: 400, message: 'Message body is required.' },
  MessagingFromRequired: { code: 21603, status: 400, message: "A 'From' phone number is required." },
  MessagingToRequired: { code: 21604, status: 400, message: "A 'To' phone number is required." },
  MessagingInvalidTo: { code: 21211, status: 400, message: "Invalid 'To' Phone Number: {to}" },
  MessagingInvalidFrom: { code: 21212, status: 400, message: "The 'From' number {from} is not a valid phone number, shortcode, or alphanumeric sender ID." },
  MessagingUnsubscribed: { code: 21610, status: 400, message: 'Attempt to send to unsubscribed recipient' },
  MessagingBodyTooLong: { code: 21617, status: 400, message: 'The concatenated message body exceeds the {limit} character limit.' },
  MessagingInvalidMediaUrl: { code: 21620, status: 400, message: 'Invalid media URL(s)' },
  // the magic numbers of test credentials (twilio.com/docs/iam/test-credentials)
  MessagingFromNotOwned: { code: 21606, status: 400, message: "The From phone number {from} is not a valid, SMS-capable inbound phone number or short code for your account." },
  MessagingFromQueueFull: { code: 21611, status: 400, message: "This 'From' number has exceeded the maximum number of queued messages" },
  MessagingToUnreachable: { code: 21612, status: 400, message: "The 'To' phone number: {to}, is not currently reachable using the 'From' phone number: {from} via SMS." },
  MessagingRegionNotEnabled: { code: 21408, status: 400, message: "Permission to send an SMS has not been enabled for the region indicated by the 'To' number: {to}." },
  MessagingToNotMobile: { code: 21614, status: 400, message: "'To' number {to} is not a valid mobile number" },
  // IncomingPhoneNumbers (api.twilio.com/2010-04-01): buying a number
  PhoneNumberInvalid: { code: 21421, status: 400, message: 'PhoneNumber {phoneNumber} is invalid: {reason}' },
  PhoneNumberNotAvailable: { code: 21422, status: 400, message: 'PhoneNumber {phoneNumber} is not available' },
  AreaCodeInvalid: { code: 21451, status: 400, message: 'Invalid area code {areaCode}: a 3-digit North American area code' },
  AreaCodeExhausted: { code: 21452, status: 400, message: 'No phone numbers found in area code {areaCode}' },
  MessagingChannelMismatch: { code: 21910, status: 400, message: 'Invalid From and To pair. From and To should be of the same channel' },
} as const satisfies Record<string, CatalogueEntry>;

export type ErrorName = keyof typeof errorCatalogue;

export interface TwilioErrorBody {
  code: number;
  message: string;
  more_info: string;
  status: number;
}

export class TwilioError extends Error {
  constructor(
    override readonly name: ErrorName,
    readonly code: number,
    readonly status: number,
    message: string,
  ) {
    // A Twilio error is an answer, not a fault: skip the stack capture, which costs more than the rest of a request.
    const limit = Error.stackTraceLimit;
    Error.stackTraceLimit = 0;
    super(message);
    Error.stackTraceLimit = limit;
  }

  toJSON(): TwilioErrorBody {
    return { code: this.code, message: this.message, more_info: moreInfo(this.code), status: this.status };
  }
}

export function moreInfo(code: number): string {
  return `https://www.twilio.com/docs/errors/${code}`;
}

export function twilioError(name: ErrorName, params: Record<string, string | number> = {}): TwilioError {
  const entry: CatalogueEntry = errorCatalogue[name];
  const message = entry.message.replace(/\{(\w+)\}/g, (_, key: string) => String(params[key] ?? `{${key}}`));
  return new TwilioError(name, entry.code, entry.status, message);
}

export function invalidParameter(message: string): TwilioError {
  return twilioError('InvalidParameter', { message });
}
