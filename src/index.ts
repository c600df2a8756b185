// App-level setup, loaded before the functions (package.json "main" lists it first).
// Telemetry first: OpenTelemetry (when APPLICATIONINSIGHTS_CONNECTION_STRING is set) must start before other modules load.
import './telemetry/start.js';
import { app } from '@azure/functions';
import { registerTelemetryHooks } from './telemetry/hooks.js';

app.setup({ enableHttpStream: false });
registerTelemetryHooks();
