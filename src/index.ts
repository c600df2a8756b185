// App-level setup, loaded before the functions (package.json "main" lists it first).
// Telemetry first: OpenTelemetry (when APPLICATIONINSIGHTS_CONNECTION_STRING is set) must start before other modules load.
import './telemetry/start.js';
import { app } from '@azure/functions';
import { ConfigurationError } from './config/errors.js';
import { telemetrySettings } from './telemetry/settings.js';

// Streaming: request bodies arrive as a stream and are read only after the caller is authenticated (a large
// unauthenticated body is refused without being buffered by the host or the worker).
app.setup({ enableHttpStream: true });
// The trace hooks only matter when telemetry is exported; without it, OpenTelemetry's API is not even loaded.
if (telemetrySettings(process.env)) (await import('./telemetry/hooks.js')).registerTelemetryHooks();

// Check the settings once at start, so a missing or malformed one is reported (by name) before the first request;
// invocations then answer 500 ConfigurationError until the settings are fixed.
app.hook.appStart(async () => {
  try {
    // The settings schemas (zod) load here, after indexing, not while the host reads the functions.
    (await import('./config/config.js')).appConfig();
  } catch (error) {
    console.error(error instanceof ConfigurationError ? error.message : `Invalid app settings: ${(error as Error).message}`);
  }
});
