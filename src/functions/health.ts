import { unresolvedKeyVaultReferences } from '../config/values.js';
import { appServices } from '../shared/handler.js';
import type { SettingsHealthReport } from '../shared/health-cache.js';
import { httpOperation, type OperationHandler } from '../shared/auth.js';
import { json } from '../shared/http.js';

/**
 * GET /api/health — whether storage and Face are reachable with this app's credentials. Answered from a short cache
 * (src/shared/health-cache.ts), so anonymous callers cannot spend Face calls; the reasons go to the log only.
 */
export const health: OperationHandler<'getHealth'> = async ({ services, deps }) => {
  const report = await services.health.get(deps.logger);
  return json(report.status === 'healthy' ? 200 : 503, report);
};

/**
 * Before any service is built: settings that are still unresolved Key Vault references (the app cannot start its
 * services with them). The answer names the settings, never a value or the reference text.
 */
export function unresolvedSettingsReport(env: Record<string, string | undefined>): SettingsHealthReport | undefined {
  const names = unresolvedKeyVaultReferences(env);
  if (names.length === 0) return undefined;
  return { status: 'unhealthy', checks: { settings: { status: 'unhealthy', latencyMs: 0, reason: `unresolved Key Vault reference: ${names.join(', ')}` } } };
}

httpOperation('getHealth', health, appServices, {
  before: () => {
    const unresolved = unresolvedSettingsReport(process.env);
    return unresolved ? json(503, unresolved) : undefined;
  },
});
