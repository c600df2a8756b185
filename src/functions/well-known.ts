// The app-link documents of the device-attestation protocol, generated from settings: Apple's
// apple-app-site-association (Universal Links, and App Clips when one is set) and Android's Digital Asset Links.
// Served at /api/well-known/*; the OS fetches them at https://<host>/.well-known/*, so the front end maps that path
// here (docs/deploy.md). Public by design: they name the app, nothing secret.
import { httpOperation, type OperationHandler } from '../shared/auth.js';
import { json } from '../shared/http.js';

const cacheable = { 'cache-control': 'public, max-age=3600' };

/** The app-link settings; the settings schemas load with the first request, not while the functions are indexed. */
const appLinks = async () => (await import('../config/config.js')).appConfig().attestation.appLinks;

export const appleAppSiteAssociation: OperationHandler<'appleAppSiteAssociation'> = async () => {
  const links = await appLinks();
  const appIds = [...links.iosAppIds, ...(links.iosAppClipId ? [links.iosAppClipId] : [])];
  return json(200, {
    applinks: { details: [{ appIDs: appIds, components: [{ '/': links.path, comment: 'Opens the app for liveness sessions.' }] }] },
    ...(links.iosAppClipId ? { appclips: { apps: [links.iosAppClipId] } } : {}),
  }, cacheable);
};

export const assetLinks: OperationHandler<'assetLinks'> = async () => {
  const links = await appLinks();
  return json(200, links.androidPackageName ? [{
    relation: ['delegate_permission/common.handle_all_urls'],
    target: { namespace: 'android_app', package_name: links.androidPackageName, sha256_cert_fingerprints: links.androidFingerprints },
  }] : [], cacheable);
};

httpOperation('appleAppSiteAssociation', appleAppSiteAssociation);
httpOperation('assetLinks', assetLinks);
