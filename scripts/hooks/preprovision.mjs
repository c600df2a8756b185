// azd preprovision hook (azure.yaml): stops `azd up` before anything is created when a value the deployment needs is
// missing, instead of after ten minutes of provisioning (the pages' sign-in values are read only when the web service
// is packaged, after provisioning). Reads only; changes nothing.
import { need, REQUIRED_BEFORE_UP, runHook } from './env.mjs';

runHook('preprovision', async () => {
  const missing = [];
  for (const name of REQUIRED_BEFORE_UP) {
    try { need(process.env, name); } catch { missing.push(name); }
  }
  if (missing.length > 0) {
    throw new Error(`set these first (azd env set <NAME> <value>; docs/deploy.md, "Set before azd up"): ${missing.join(', ')}`);
  }
  const issuer = need(process.env, 'DEVICE_AUTH_ISSUER');
  if (!/^https:\/\/[^\s/]+(\/\S*)?$/.test(issuer)) throw new Error('DEVICE_AUTH_ISSUER must be the https URL of the issuer that signs device tokens');
  console.log(`preprovision: the ${REQUIRED_BEFORE_UP.length} values docs/deploy.md asks for are set.`);
});
