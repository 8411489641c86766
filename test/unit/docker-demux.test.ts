import { PassThrough, Writable } from 'node:stream';
import { pipeline } from 'node:stream/promises';
import { DockerStreamDemuxer } from '../../adapters/docker-demux';

function frame(type: 1 | 2, payload: string): Buffer {
  const header = Buffer.alloc(8);
  header[0] = type;
  header.writeUInt32BE(Buffer.byteLength(payload), 4);
  return Buffer.concat([header, Buffer.from(payload)]);
}

function collector(highWaterMark = 16 * 1024, delayMs = 0): Writable & { text: () => string } {
  const chunks: Buffer[] = [];
  const w = new Writable({
    highWaterMark,
    write(chunk: Buffer, _e, done) {
      chunks.push(chunk);
      if (delayMs) setTimeout(done, delayMs);
      else done();
    },
  });
  return Object.assign(w, { text: () => Buffer.concat(chunks).toString() });
}

describe('DockerStreamDemuxer', () => {
  test('routes frames to stdout and stderr even when frames are split across chunks', async () => {
    const out = collector();
    const err = collector();
    const all = Buffer.concat([frame(1, 'hello '), frame(2, 'oops'), frame(1, 'world')]);
    const source = new PassThrough();
    const done = pipeline(source, new DockerStreamDemuxer(out, err));
    for (let i = 0; i < all.length; i += 3) source.write(all.subarray(i, i + 3));
    source.end();
    await done;
    expect(out.text()).toBe('hello world');
    expect(err.text()).toBe('oops');
  });

  test('does not acknowledge a frame until a full stdout has drained, so the producer is paused', async () => {
    let release: (() => void) | undefined;
    const slow = new Writable({
      highWaterMark: 1,
      write(_chunk: Buffer, _e, done) {
        release = done;
      },
    });
    const demuxer = new DockerStreamDemuxer(slow, collector());
    let acknowledged = false;
    demuxer.write(frame(1, 'payload'), () => (acknowledged = true));
    await new Promise((r) => setTimeout(r, 30));
    expect(acknowledged).toBe(false);
    release!();
    await new Promise((r) => setTimeout(r, 10));
    expect(acknowledged).toBe(true);
  });
});
