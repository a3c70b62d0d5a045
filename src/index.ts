export { createEmulator } from './emulator/create-emulator.js';
export type { EmulatorOptions, EmulatorHandle, ClockHandle } from './emulator/create-emulator.js';
export { errorCatalogue, TwilioError } from './emulator/wire/errors.js';
export type { ErrorName, TwilioErrorBody } from './emulator/wire/errors.js';
export { version } from './version.js';
export type { DeliveryView, Attempt } from './emulator/webhooks/service.js';
export type { RequestLogEntry } from './emulator/http/request-log.js';
export { twilioSignature } from './emulator/webhooks/signing.js';
