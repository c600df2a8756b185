// Runs before every file of the unit project. The unit files share one module graph (isolate: false), so whichever
// file first imports a function module (src/functions/*) registers it, once, for all of them. The dev host's
// `@azure/functions-core` seam is installed before any of them can load `@azure/functions`, so those registrations
// always land in the one registry the registration checks (openapi-contract.test.ts) read, whatever the file order.
import { installCoreSeam } from '../../dev/host/core.js';

installCoreSeam();
