/**
 * SIGINT / SIGTERM for a served process (`tce serve`, `tce router serve`): say so, close, exit 0 (1 when closing
 * failed). close() is bounded by its owner; the backstop keeps the promise of exiting within 5 s whatever happens.
 */
export function closeOnSignals(name: string, close: () => Promise<void>, backstopMs = 4500): void {
  let closing = false;
  const stop = (signal: string) => {
    if (closing) return;
    closing = true;
    process.stdout.write(`${name}: ${signal}, closing\n`);
    setTimeout(() => {
      process.stderr.write(`${name}: shutdown took over ${backstopMs / 1000} s, exiting now\n`);
      process.exit(1);
    }, backstopMs).unref();
    close().then(
      () => process.exit(0),
      () => process.exit(1),
    );
  };
  process.on('SIGINT', () => stop('SIGINT'));
  process.on('SIGTERM', () => stop('SIGTERM'));
}
