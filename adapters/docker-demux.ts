/**
 * Splits Docker's multiplexed attach/exec stream (8-byte frame headers, Tty: false) into
 * stdout and stderr, with backpressure: a frame is acknowledged only once stdout accepted it,
 * so a slow consumer (gzip, a full disk) pauses the container's output instead of buffering
 * gigabytes in the worker. docker-modem's demuxStream ignores `write()`'s return value.
 * Frame format: https://docs.docker.com/reference/api/engine/version/v1.43/#tag/Container/operation/ContainerAttach
 */
import { Writable } from 'node:stream';

const HEADER_BYTES = 8;
const STDERR = 2;

export class DockerStreamDemuxer extends Writable {
  private pending: Buffer = Buffer.alloc(0);

  constructor(
    private readonly stdout: Writable,
    private readonly stderr: Writable,
  ) {
    super();
  }

  override _write(chunk: Buffer, _encoding: BufferEncoding, done: (err?: Error | null) => void): void {
    this.pending = this.pending.length === 0 ? chunk : Buffer.concat([this.pending, chunk]);
    let mustWait = false;
    while (this.pending.length >= HEADER_BYTES) {
      const length = this.pending.readUInt32BE(4);
      if (this.pending.length < HEADER_BYTES + length) break;
      const payload = this.pending.subarray(HEADER_BYTES, HEADER_BYTES + length);
      const target = this.pending[0] === STDERR ? this.stderr : this.stdout;
      this.pending = this.pending.subarray(HEADER_BYTES + length);
      // A consumer that failed (disk full) is gone: drop its frames so the container can run
      // to its end instead of blocking on a pipe nobody reads. The caller reports the failure.
      if (target.destroyed || target.writableEnded) continue;
      if (!target.write(payload) && target === this.stdout) mustWait = true;
    }
    if (!mustWait) return done();
    const settle = () => {
      this.stdout.off('drain', settle);
      this.stdout.off('close', settle);
      done();
    };
    this.stdout.once('drain', settle);
    this.stdout.once('close', settle);
  }
}
