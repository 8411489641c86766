/** Temporal connection settings from the environment, so a worker can join any cluster. */
import { readFileSync } from 'node:fs';

export interface TemporalSettings {
  address: string;
  namespace: string;
  taskQueue: string;
  uiUrl: string;
  tls?: { clientCertPair?: { crt: Buffer; key: Buffer } } | true;
  apiKey?: string;
}

export function temporalSettings(env: NodeJS.ProcessEnv = process.env): TemporalSettings {
  const certPath = env.TEMPORAL_TLS_CERT;
  const keyPath = env.TEMPORAL_TLS_KEY;
  let tls: TemporalSettings['tls'];
  if (certPath && keyPath) tls = { clientCertPair: { crt: readFileSync(certPath), key: readFileSync(keyPath) } };
  else if (env.TEMPORAL_TLS === '1' || env.TEMPORAL_API_KEY) tls = true;
  return {
    address: env.TEMPORAL_ADDRESS ?? '127.0.0.1:7233',
    namespace: env.TEMPORAL_NAMESPACE ?? 'default',
    taskQueue: env.RESTORE_DRILL_TASK_QUEUE ?? 'restore-drill',
    uiUrl: (env.TEMPORAL_UI_URL ?? `http://127.0.0.1:${env.TEMPORAL_UI_PORT ?? '8233'}`).replace(/\/$/, ''),
    tls,
    apiKey: env.TEMPORAL_API_KEY,
  };
}

/** Connection values a command line or a configuration file may give. */
export interface TemporalChoices {
  address?: string;
  namespace?: string;
  taskQueue?: string;
}

/**
 * The settings every entry point uses: flags win over the environment, which wins over the
 * configuration file's `temporal:`, which wins over the defaults.
 */
export function resolveTemporalSettings(flags: TemporalChoices, file: TemporalChoices | undefined, env: NodeJS.ProcessEnv = process.env): TemporalSettings {
  const base = temporalSettings(env);
  return {
    ...base,
    address: flags.address ?? env.TEMPORAL_ADDRESS ?? file?.address ?? base.address,
    namespace: flags.namespace ?? env.TEMPORAL_NAMESPACE ?? file?.namespace ?? base.namespace,
    taskQueue: flags.taskQueue ?? env.RESTORE_DRILL_TASK_QUEUE ?? file?.taskQueue ?? base.taskQueue,
  };
}

/** The Web UI's workflow list of the namespace; a drill's page is `<this>/<workflow id>/<run id>`. */
export function workflowsUiBaseUrl(settings: TemporalSettings): string {
  return `${settings.uiUrl}/namespaces/${encodeURIComponent(settings.namespace)}/workflows`;
}

export function workflowUiUrl(settings: TemporalSettings, workflowId: string, runId?: string): string {
  return `${workflowsUiBaseUrl(settings)}/${encodeURIComponent(workflowId)}${runId ? `/${runId}` : ''}`;
}
