// `node dist/dev/oidc-issuer/main.js`: the local development OIDC issuer on DEV_ISSUER_PORT (default 7082).
import { startDevIssuer } from './issuer.js';

const issuer = await startDevIssuer({ port: Number(process.env.DEV_ISSUER_PORT ?? 7082) });
console.log(`Dev OIDC issuer listening on ${issuer.url}`);
const stop = () => { void issuer.close().then(() => process.exit(0)); };
process.on('SIGINT', stop);
process.on('SIGTERM', stop);
