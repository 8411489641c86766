/**
 * Integration tests need the real components. Nothing is skipped: when one is missing the
 * run fails here, saying which and how to bring it up (deploy/up.sh does all of it).
 */
import Docker from 'dockerode';
import { Connection } from '@temporalio/client';
import { ALL_SERVER_NAMES, imageVariable, testServer } from './servers';

export default async function globalSetup(): Promise<void> {
  const problems: string[] = [];
  const docker = new Docker();
  try {
    await docker.ping();
    for (const name of ALL_SERVER_NAMES) {
      const { image } = testServer(name);
      const named = process.env[imageVariable(name)] ? ` (${imageVariable(name)})` : '';
      await docker.getImage(image).inspect().catch(() => problems.push(`image ${image}${named} is missing: run deploy/images.sh ${name}`));
    }
  } catch (err) {
    problems.push(`the Docker engine does not answer (${(err as Error).message}): run deploy/docker-engine.sh`);
  }
  const address = process.env.TEMPORAL_ADDRESS ?? '127.0.0.1:7233';
  try {
    const connection = await Connection.connect({ address, connectTimeout: 5000 });
    try {
      await connection.healthService.check({});
    } finally {
      await connection.close();
    }
  } catch (err) {
    problems.push(`no Temporal server answers on ${address} (${(err as Error).message}): run deploy/temporal.sh start`);
  }
  // The object-store tests read teams' backups from the rclone S3 server deploy/s3.sh runs.
  const s3 = `http://127.0.0.1:${process.env.RD_S3_PORT ?? 9768}/`;
  try {
    const reply = await fetch(s3, { signal: AbortSignal.timeout(5000) });
    if (!(await reply.text()).includes('<Error>')) problems.push(`${s3} answers but is not an S3 server: run deploy/s3.sh start (or set RD_S3_PORT)`);
  } catch (err) {
    const why = (err as { cause?: { code?: string } }).cause?.code ?? (err as Error).message; // fetch hides the code in its cause
    problems.push(`no S3 server answers on ${s3} (${why}): run deploy/s3.sh start`);
  }
  if (problems.length > 0) throw new Error(`integration tests cannot run:\n  - ${problems.join('\n  - ')}`);
}
