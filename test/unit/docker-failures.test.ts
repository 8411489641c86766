/**
 * How the Docker adapter words a daemon that is down or restarting: Transient (the engine
 * retries), naming the socket it tried; a request Docker rejects stays ToolFailed. Real
 * dockerode against a unix socket that is missing, refuses, hangs up or answers 5xx.
 */
import http from 'node:http';
import { mkdtemp, rm } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import Docker from 'dockerode';
import { DockerodeRuntime, isDaemonUnavailable } from '../../adapters/docker';

let dir: string;
beforeAll(async () => {
  dir = await mkdtemp(path.join(os.tmpdir(), 'rd-docker-failures-'));
});
afterAll(async () => {
  await rm(dir, { recursive: true, force: true });
});

async function withFakeDaemon<T>(name: string, handler: http.RequestListener, fn: (socketPath: string) => Promise<T>): Promise<T> {
  const socketPath = path.join(dir, `${name}.sock`);
  const server = http.createServer(handler);
  await new Promise<void>((r) => server.listen(socketPath, r));
  try {
    return await fn(socketPath);
  } finally {
    server.closeAllConnections();
    await new Promise<void>((r) => server.close(() => r()));
  }
}

const failureOf = (p: Promise<unknown>) => p.then(() => undefined, (e: { type?: string; message?: string }) => ({ type: e.type, message: e.message }));

test('a daemon whose socket is gone is Transient, names the socket and says the engine retries', async () => {
  const socketPath = path.join(dir, 'gone.sock');
  const runtime = new DockerodeRuntime(new Docker({ socketPath }));

  expect(await failureOf(runtime.inspect('rd-sandbox-x'))).toEqual({ type: 'Transient', message: expect.stringMatching(new RegExp(`unix://${socketPath}.*retries`)) });
  expect(await failureOf(runtime.listByLabel({ a: 'b' }))).toEqual(expect.objectContaining({ type: 'Transient' }));
  expect(await failureOf(runtime.exec('rd-sandbox-x', ['true']))).toEqual(expect.objectContaining({ type: 'Transient' }));
});

test('a daemon that hangs up mid-request is Transient', async () => {
  await withFakeDaemon('hangup', (req) => req.socket.destroy(), async (socketPath) => {
    const runtime = new DockerodeRuntime(new Docker({ socketPath }));
    expect(await failureOf(runtime.start('rd-sandbox-x'))).toEqual({ type: 'Transient', message: expect.stringContaining(socketPath) });
  });
});

test('a daemon answering 5xx while it shuts down is Transient; a 4xx about the request is ToolFailed', async () => {
  await withFakeDaemon('status', (req, res) => {
    const status = req.url?.includes('shutting') ? 503 : 400;
    res.writeHead(status, { 'content-type': 'application/json' }).end(JSON.stringify({ message: status === 503 ? 'daemon is shutting down' : 'bad parameter' }));
  }, async (socketPath) => {
    const runtime = new DockerodeRuntime(new Docker({ socketPath }));
    expect(await failureOf(runtime.start('shutting'))).toEqual(expect.objectContaining({ type: 'Transient' }));
    expect(await failureOf(runtime.start('other'))).toEqual(expect.objectContaining({ type: 'ToolFailed' }));
  });
});

test.each([
  [{ code: 'ECONNREFUSED' }, true],
  [{ code: 'ENOENT' }, true],
  [Object.assign(new Error('socket hang up'), { code: 'ECONNRESET' }), true],
  [new Error('socket hang up'), true],
  [{ statusCode: 500 }, true],
  [{ statusCode: 409 }, false],
  [{ statusCode: 404 }, false],
])('isDaemonUnavailable(%o) is %s', (err, expected) => {
  expect(isDaemonUnavailable(err)).toBe(expected);
});
