/**
 * Whether a host to bind reaches this machine only: 127.0.0.0/8, ::1 (also IPv4-mapped), `localhost`, or a name
 * every address of which is one of those. Anything else (0.0.0.0, ::, a LAN address) opens the port to the
 * network, and with it the control plane unless a control token guards it.
 */
import { lookup } from 'node:dns/promises';
import { isIP } from 'node:net';

function isLoopbackAddress(address: string): boolean {
  const v4 = address.startsWith('::ffff:') ? address.slice('::ffff:'.length) : address;
  if (isIP(v4) === 4) return v4.startsWith('127.');
  return isIP(address) === 6 && /^(0{0,4}:){2,7}0{0,3}1$|^::1$/.test(address);
}

export async function isLoopback(host: string): Promise<boolean> {
  const bare = host.replace(/^\[(.*)\]$/, '$1');
  if (isIP(bare)) return isLoopbackAddress(bare);
  if (bare.toLowerCase() === 'localhost') return true;
  try {
    const addresses = await lookup(bare, { all: true });
    return addresses.length > 0 && addresses.every((a) => isLoopbackAddress(a.address));
  } catch {
    return false; // listen will fail on it anyway, with its own message
  }
}
