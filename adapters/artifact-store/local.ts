/** The artifact store in a folder of the worker host (the default, `<home>/artifacts`). */
import { copyFile, mkdir, readFile, readdir, rename, rm, stat } from 'node:fs/promises';
import path from 'node:path';
import { DrillError, DrillErrorTypes } from '../../domain/errors';
import { PRUNING, fileBytes, splitPrefix, tempName, writeAtomically } from './files';
import type { ArtifactStore, MovedBytes, StoredArtifact } from './types';

export class LocalArtifactStore implements ArtifactStore {
  readonly kind = 'local' as const;
  constructor(readonly root: string) {}

  describe(): string {
    return `the folder ${this.root}`;
  }

  ref(key: string): string {
    return path.join(this.root, key);
  }

  keyOf(ref: string): string | undefined {
    const rel = path.relative(this.root, ref);
    return rel === '' || rel.startsWith('..') || path.isAbsolute(rel) ? undefined : rel.split(path.sep).join('/');
  }

  async read(key: string): Promise<Buffer | undefined> {
    return readFile(this.ref(key)).catch((err: NodeJS.ErrnoException) => {
      if (err.code === 'ENOENT' || err.code === 'ENOTDIR') return undefined;
      throw err;
    });
  }

  async write(key: string, body: string | Buffer): Promise<void> {
    await writeAtomically(this.ref(key), body);
  }

  async putFile(key: string, file: string): Promise<MovedBytes> {
    const target = this.ref(key);
    await mkdir(path.dirname(target), { recursive: true, mode: 0o750 });
    const tmp = tempName(target);
    await copyFile(file, tmp);
    await rename(tmp, target);
    return fileBytes(target);
  }

  async getFile(key: string, file: string): Promise<MovedBytes> {
    await mkdir(path.dirname(file), { recursive: true, mode: 0o750 });
    const tmp = tempName(file);
    await copyFile(this.ref(key), tmp);
    await rename(tmp, file);
    return fileBytes(file);
  }

  async list(prefix: string): Promise<StoredArtifact[]> {
    const out: StoredArtifact[] = [];
    const walk = async (rel: string): Promise<void> => {
      const entries = await readdir(path.join(this.root, rel), { withFileTypes: true }).catch(() => []);
      for (const e of entries) {
        const key = rel === '' ? e.name : `${rel}/${e.name}`;
        if (e.isDirectory()) await walk(key);
        else if (e.isFile()) {
          const st = await stat(path.join(this.root, key)).catch(() => undefined);
          if (st) out.push({ key, size: st.size, modified: st.mtime });
        }
      }
    };
    await walk(prefix.replace(/\/$/, ''));
    return out.sort((a, b) => (a.key < b.key ? -1 : a.key > b.key ? 1 : 0));
  }

  async remove(keys: readonly string[]): Promise<void> {
    for (const key of keys) await rm(this.ref(key), { force: true });
  }

  async publishFolder(localDir: string, opts: { prefix: string }): Promise<void> {
    await rename(localDir, this.ref(opts.prefix));
  }

  stagingDir(tempPrefix: string): string {
    return this.ref(tempPrefix);
  }

  async removeFolder(prefix: string): Promise<void> {
    const { parent, name } = splitPrefix(prefix);
    const pruning = this.ref(`${parent}${PRUNING}${name}`);
    await rename(this.ref(prefix), pruning);
    await rm(pruning, { recursive: true, force: true });
  }

  async finishRemovals(parentPrefix: string): Promise<void> {
    for (const name of await readdir(this.ref(parentPrefix)).catch(() => [] as string[]))
      if (name.startsWith(PRUNING)) await rm(path.join(this.ref(parentPrefix), name), { recursive: true, force: true });
  }

  async check(): Promise<void> {
    await mkdir(this.root, { recursive: true, mode: 0o750 }).catch((err: NodeJS.ErrnoException) => {
      throw new DrillError(DrillErrorTypes.BadConfig, `artifact store ${this.root} cannot be created on the worker host (${err.code}); create it or give the worker write access`, { cause: err });
    });
  }

  close(): void {}
}
