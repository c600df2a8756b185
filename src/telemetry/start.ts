// Starts OpenTelemetry with the Azure Monitor distro when APPLICATIONINSIGHTS_CONNECTION_STRING is set, and does
// nothing otherwise (local runs and tests never try to export). Imported first by src/index.ts: the ESM loader hook
// must be registered before the functions' modules (Azure SDK, http) are imported, or they are not instrumented.
// With APPLICATIONINSIGHTS_AUTHENTICATION_STRING "Authorization=AAD[;ClientId=<id>]" telemetry is sent with the
// managed identity's token (the Application Insights resource has local auth off).

import { telemetrySettings } from './settings.js';

export async function startTelemetry(env: Record<string, string | undefined> = process.env): Promise<boolean> {
  const settings = telemetrySettings(env);
  if (!settings) return false;
  await import('@azure/monitor-opentelemetry/loader');
  const { useAzureMonitor } = await import('@azure/monitor-opentelemetry');
  const credential = settings.credential
    ? new (await import('@azure/identity')).ManagedIdentityCredential(settings.credential.clientId ? { clientId: settings.credential.clientId } : {})
    : undefined;
  useAzureMonitor({
    azureMonitorExporterOptions: { connectionString: settings.connectionString, ...(credential ? { credential } : {}) },
    instrumentationOptions: { azureSdk: { enabled: true }, http: { enabled: true } },
  });
  return true;
}

await startTelemetry();
