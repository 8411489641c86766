/** Resolves secret references. Secrets are read here, in activities, and never leave the process. */
import { readFile } from 'node:fs/promises';
import { DrillError, DrillErrorTypes } from '../domain/errors';
import type { SecretRef } from '../config/schema';

export async function resolveSecret(ref: SecretRef | undefined, what: string): Promise<string | undefined> {
  if (!ref) return undefined;
  if ('env' in ref) {
    const value = process.env[ref.env];
    if (value === undefined) throw new DrillError(DrillErrorTypes.BadConfig, `${what}: environment variable ${ref.env} is not set on the worker; export it or use passwordRef.file`);
    return value;
  }
  try {
    return (await readFile(ref.file, 'utf8')).replace(/\r?\n$/, '');
  } catch (err) {
    throw new DrillError(DrillErrorTypes.BadConfig, `${what}: cannot read secret file ${ref.file} (${(err as NodeJS.ErrnoException).code}); create it with mode 0600 on the worker host`, { cause: err });
  }
}
