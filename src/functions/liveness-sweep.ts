import { app, type Timer } from '@azure/functions';
import { sweepSessions, type SweepReport } from '../core/sweep.js';
import { triggerHandler, type TriggerInvocation } from '../shared/handler.js';

/** Timer: sweeps sessions whose token expired or whose retention ended (schedule from LIVENESS_SWEEP_SCHEDULE). */
export async function sweepLivenessSessions({ input: timer, deps }: TriggerInvocation<Timer>): Promise<SweepReport> {
  if (timer.isPastDue) deps.logger.warn('sweep is running late');
  return sweepSessions(deps);
}

app.timer('liveness-sweep', {
  schedule: '%LIVENESS_SWEEP_SCHEDULE%',
  handler: triggerHandler(sweepLivenessSessions),
});
