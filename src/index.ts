// App-level setup, loaded before the functions (package.json "main" lists it first).
// Telemetry first: OpenTelemetry (when APPLICATIONINSIGHTS_CONNECTION_STRING is set) must start before other modules load.
import './telemetry/start.js';
import { app } from '@azure/functions';
import { appConfig, ConfigurationError } from './config/config.js';
import { registerTelemetryHooks } from './telemetry/hooks.js';

// Streaming: request bodies arrive as a stream and are read only after the caller is authenticated (a large
// unauthenticated body is refused without being buffered by the host or the worker).
app.setup({ enableHttpStream: true });
registerTelemetryHooks();

// Check the settings once at start, so a missing or malformed one is reported (by name) before the first request;
// invocations then answer 500 ConfigurationError until the settings are fixed.
app.hook.appStart(() => {
  try {
    appConfig();
  } catch (error) {
    console.error(error instanceof ConfigurationError ? error.message : `Invalid app settings: ${(error as Error).message}`);
  }
});
