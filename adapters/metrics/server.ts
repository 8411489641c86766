/** The HTTP endpoint Prometheus scrapes: GET /metrics on a configured host:port, nothing else. */
import { createServer } from 'node:http';
import type { AddressInfo } from 'node:net';
import { DrillError, DrillErrorTypes } from '../../domain/errors';

export interface MetricsEndpoint {
  /** The address actually bound (a port of 0 picks a free one). */
  readonly url: string;
  close(): Promise<void>;
}

/** `127.0.0.1:9464`, `[::1]:9464` → host and port. */
export function parseListenAddress(address: string): { host: string; port: number } {
  const m = /^(?:\[([0-9a-fA-F:]+)\]|([A-Za-z0-9.-]+)):(\d{1,5})$/.exec(address.trim());
  const port = Number(m?.[3]);
  if (!m || port > 65535) throw new DrillError(DrillErrorTypes.BadConfig, `metrics address ${JSON.stringify(address)} is not host:port (e.g. 127.0.0.1:9464)`);
  return { host: m[1] ?? m[2]!, port };
}

export async function serveMetrics(address: string, render: () => Promise<{ contentType: string; body: string }>): Promise<MetricsEndpoint> {
  const { host, port } = parseListenAddress(address);
  const server = createServer((req, res) => {
    if (req.method !== 'GET' || (req.url ?? '').split('?')[0] !== '/metrics') {
      res.writeHead(404, { 'content-type': 'text/plain' }).end('restore-drill serves /metrics only\n');
      return;
    }
    render().then(
      ({ contentType, body }) => res.writeHead(200, { 'content-type': contentType }).end(body),
      (err: Error) => res.writeHead(500, { 'content-type': 'text/plain' }).end(`metrics failed: ${err.message}\n`),
    );
  });
  await new Promise<void>((resolve, reject) => {
    server.once('error', (err: NodeJS.ErrnoException) =>
      reject(new DrillError(DrillErrorTypes.BadConfig, `cannot serve metrics on ${address}: ${err.code === 'EADDRINUSE' ? 'the port is in use (another worker?); pick another metrics address' : err.message}`, { cause: err })),
    );
    server.listen(port, host, () => resolve());
  });
  const bound = server.address() as AddressInfo;
  return {
    url: `http://${bound.family === 'IPv6' ? `[${bound.address}]` : bound.address}:${bound.port}/metrics`,
    close: () => new Promise<void>((resolve) => server.close(() => resolve())),
  };
}
