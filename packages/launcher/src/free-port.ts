import net from 'node:net';
import { LaunchSetupError } from './errors.js';

/** A TCP port free on 127.0.0.1 right now (for accelerate's rendezvous). */
export function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const server = net.createServer();
    server.unref();
    server.once('error', reject);
    server.listen(0, '127.0.0.1', () => {
      const address = server.address();
      const port = typeof address === 'object' && address ? address.port : 0;
      server.close(() => (port ? resolve(port) : reject(new Error('no free port'))));
    });
  });
}

const held = new Set<number>();

/**
 * A free port that no other running launch of this process holds: parallel jobs never share a
 * `--main_process_port`, on GPUs or CPU. Call `release` when the launch is over.
 */
export async function reservePort(): Promise<{ port: number; release: () => void }> {
  for (let tries = 0; tries < 100; tries++) {
    const port = await freePort();
    if (held.has(port)) continue;
    held.add(port);
    return { port, release: () => void held.delete(port) };
  }
  throw new LaunchSetupError('no free TCP port for --main_process_port after 100 tries');
}
