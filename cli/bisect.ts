/** `bisect <source> --query … --expect …`: which archived transaction first made the query fail. */
import { drillRequestFor } from '../config/load';
import { renderBisectAnswer } from '../domain/bisect/answer';
import { assertReadOnlyQuery, parseExpectation } from '../domain/bisect/expect';
import { drillWorkflowId } from '../domain/naming';
import { parseTarget } from '../domain/recovery/targets';
import { workflowUiUrl } from '../client/settings';
import { awaitBisect, describeBisectProgress, startBisect } from '../client/bisect';
import type { CliContext } from './context';
import { emit } from './context';

export async function bisectCommand(ctx: CliContext, source: string, opts: { query: string; expect: string; from?: string; to?: string }): Promise<number> {
  // Refused before anything starts.
  assertReadOnlyQuery(opts.query);
  const expect = parseExpectation(opts.expect);
  const target = parseTarget(opts.to ?? 'latest');
  const drill = drillRequestFor(ctx.config(), source, { target, ...(opts.from ? { backupManifest: opts.from } : { backup: 'own' }) });
  const client = await ctx.client();
  const handle = await startBisect({
    client,
    taskQueue: ctx.settings.taskQueue,
    request: { drill, query: opts.query, expect },
    workflowId: drillWorkflowId(source, new Date().toISOString()).replace(/^drill-/, 'bisect-'),
    summary: `bisect of ${source}: ${opts.query.slice(0, 120)} expecting ${opts.expect} (restore-drill CLI)`,
  });
  const ui = workflowUiUrl(ctx.settings, handle.workflowId);
  ctx.log(`bisect ${handle.workflowId} started; follow it at ${ui}`);
  let lastLine = '';
  const { answer, failure } = await awaitBisect(handle, (p) => {
    const line = describeBisectProgress(p);
    if (line !== lastLine && !ctx.json) ctx.log(`  ${line}`);
    lastLine = line;
  });
  emit(ctx, { bisectId: handle.workflowId, ui, answer, failure }, () => [answer ? renderBisectAnswer(answer) : '', failure ? `FAILED (${failure.type}): ${failure.message}` : '', `Temporal UI: ${ui}`].filter(Boolean).join('\n'));
  return answer ? 0 : 1;
}
