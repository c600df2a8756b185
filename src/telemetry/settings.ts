// Whether and how telemetry is exported: read from the two Application Insights app settings.

export interface TelemetrySettings { connectionString: string; credential?: { clientId?: string } }

export function telemetrySettings(env: Record<string, string | undefined>): TelemetrySettings | undefined {
  const connectionString = env.APPLICATIONINSIGHTS_CONNECTION_STRING?.trim();
  if (!connectionString) return undefined;
  const auth = new Map((env.APPLICATIONINSIGHTS_AUTHENTICATION_STRING ?? '').split(';')
    .map((part) => part.split('=').map((s) => s.trim()))
    .filter((kv): kv is [string, string] => kv.length === 2 && !!kv[0])
    .map(([k, v]) => [k.toLowerCase(), v] as const));
  if (auth.get('authorization')?.toUpperCase() !== 'AAD') return { connectionString };
  const clientId = auth.get('clientid');
  return { connectionString, credential: clientId ? { clientId } : {} };
}
