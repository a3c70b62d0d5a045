/**
 * An open-loop load generator for one POST endpoint: requests leave evenly spaced at `rate`/s over keep-alive
 * sockets opened beforehand, each socket one request at a time. Latency runs from when the request was sent, or, for
 * one that had to wait for a free socket (every socket waiting for an answer), from when it would have been: a slow
 * server is not flattered. The generator's own timer jitter (1 ms ticks) is not counted against the server.
 *
 * Why raw sockets: the generator runs on the same two cores as the server it measures. Through undici's Pool a
 * request cost ~70 µs of CPU (3.4–3.8 s for 50,000) that the server then lacked; a prebuilt request written to a
 * socket and an answer found by its Content-Length cost half that (1.7 s), and in one alternated pair of runs the
 * bare-fastify calibration's p99 at 5,000/s went from 3.8 to 1.6 ms. The answers must carry Content-Length (fastify's
 * do).
 */
import net from 'node:net';

/**
 * `requestText(i)`: the whole HTTP/1.1 request i as text (see postText). Resolves with the latencies (ms, sorted),
 * the non-2xx count and the requests that got no answer (a socket closed or the drain deadline passed).
 */
export async function pacedPosts({ url, rate, seconds, connections = 64, requestText, drainMs = 30_000 }) {
  const { hostname, port } = new URL(url);
  const sockets = [];
  const idle = [];
  /** when each request waiting for a free socket would have left */
  const waiting = [];
  const latencies = [];
  let non2xx = 0;
  let errors = 0;
  let inFlight = 0;
  let next = 0;

  const send = (socket, sentAt) => {
    socket.sentAt = sentAt;
    socket.busy = true;
    inFlight++;
    socket.write(requestText(next++));
  };
  const answered = (socket, status) => {
    socket.busy = false;
    inFlight--;
    if (status < 200 || status >= 300) non2xx++;
    latencies.push(performance.now() - socket.sentAt);
    const queuedAt = waiting.shift();
    if (queuedAt !== undefined) send(socket, queuedAt);
    else idle.push(socket);
  };
  const open = () =>
    new Promise((resolve, reject) => {
      const socket = net.connect(Number(port), hostname, () => resolve(socket));
      socket.setNoDelay(true);
      socket.once('error', reject);
      let buffered = '';
      socket.on('data', (chunk) => {
        buffered += chunk.toString('latin1');
        for (;;) {
          const end = buffered.indexOf('\r\n\r\n');
          if (end < 0) return;
          const length = Number(/\r\ncontent-length: *(\d+)/i.exec(buffered.slice(0, end + 2))?.[1] ?? 0);
          if (buffered.length < end + 4 + length) return;
          const status = Number(buffered.slice(9, 12));
          buffered = buffered.slice(end + 4 + length);
          answered(socket, status);
        }
      });
      socket.on('close', () => {
        if (socket.busy) {
          socket.busy = false;
          inFlight--;
          errors++;
        }
      });
    });

  for (let i = 0; i < connections; i++) {
    const socket = await open();
    socket.on('error', () => {});
    sockets.push(socket);
    idle.push(socket);
  }
  const total = Math.round(rate * seconds);
  let due = 0;
  const started = performance.now();
  while (due < total) {
    const now = performance.now();
    // everything due by now leaves now
    while (due < total && started + (due * 1000) / rate <= now) {
      const socket = idle.pop();
      if (socket) send(socket, now);
      else waiting.push(now);
      due++;
    }
    // a 1 ms tick, not a spin: the generator must not take the CPU the server needs
    await new Promise((resolve) => setTimeout(resolve, 1));
  }
  const deadline = performance.now() + drainMs;
  while ((inFlight > 0 || waiting.length > 0) && performance.now() < deadline) await new Promise((resolve) => setTimeout(resolve, 5));
  errors += inFlight + waiting.length;
  for (const socket of sockets) socket.destroy();
  latencies.sort((a, b) => a - b);
  return { latencies, non2xx, errors, seconds: (performance.now() - started) / 1000 };
}

/** A POST as HTTP/1.1 text; `headers` without Host and Content-Length (added here). */
export function postText(host, path, headers, body) {
  const lines = Object.entries(headers).map(([name, value]) => `${name}: ${value}\r\n`).join('');
  return `POST ${path} HTTP/1.1\r\nhost: ${host}\r\n${lines}content-length: ${Buffer.byteLength(body)}\r\n\r\n${body}`;
}
