/** How the engine reaches a source: its endpoint and credentials, the password resolved from its reference. */
import type { Endpoint } from './mysql';
import { resolveSecret } from './secrets';
import type { SourceSpec } from '../config/schema';

export function endpointOf(source: SourceSpec): Endpoint {
  const c = source.connection;
  return 'socket' in c ? { socket: c.socket } : { host: c.host, port: c.port };
}

export async function sourceCredentials(source: SourceSpec) {
  return { user: source.user, password: await resolveSecret(source.passwordRef, `source ${source.name} password`) };
}
