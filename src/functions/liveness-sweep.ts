import { app, type InvocationContext, type Timer } from '@azure/functions';
import { loadDeps } from '../services.js';
import { sweepSessions, type SweepReport } from '../core/sweep.js';

/** Timer: sweeps sessions whose token expired or whose retention ended (schedule from LIVENESS_SWEEP_SCHEDULE). */
export async function sweepLivenessSessions(timer: Timer, context: InvocationContext): Promise<SweepReport> {
  const deps = await loadDeps(context);
  if (timer.isPastDue) deps.logger.warn('sweep is running late');
  return sweepSessions(deps);
}

app.timer('liveness-sweep', {
  schedule: '%LIVENESS_SWEEP_SCHEDULE%',
  handler: sweepLivenessSessions,
});
