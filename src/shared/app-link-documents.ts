// The app-link documents, built from the app-link settings (ATTESTATION_* in src/config/config.ts): Apple's
// apple-app-site-association (Universal Links, and App Clips when one is set) and Android's Digital Asset Links.
// Pure and import-free at run time (types only), so the function app (src/functions/well-known.ts) and a build step
// can both use them.
//
// Two kinds of link open the app: the attestation hand-over (`ATTESTATION_APPLINK_PATH`, `/native?s=<session id>`)
// and a relying party's verification link (`ATTESTATION_APPLINK_VERIFICATION_PATH`, by default `/device/*`, the
// device page's path, matched only with a `verification` query item, so a plain visit to the device page stays in the
// browser). The verification link's token is in the fragment, which the OS hands to the app with the URL. Android
// has no paths here: the app's manifest (intent filter with autoVerify) names them; assetlinks.json only vouches
// for the app.
import type { AppConfig } from '../config/config.js';

export type AppLinks = AppConfig['attestation']['appLinks'];

/** apple-app-site-association for the app-link settings. */
export function appleAppSiteAssociationDocument(links: AppLinks) {
  const appIds = [...links.iosAppIds, ...(links.iosAppClipId ? [links.iosAppClipId] : [])];
  const components: Array<Record<string, unknown>> = [{ '/': links.path, comment: 'Opens the app for liveness sessions.' }];
  if (links.verificationPath) {
    components.push({ '/': links.verificationPath, '?': { verification: '?*' }, comment: 'Opens the app for verification links (the link token is in the fragment).' });
  }
  return {
    applinks: { details: [{ appIDs: appIds, components }] },
    ...(links.iosAppClipId ? { appclips: { apps: [links.iosAppClipId] } } : {}),
  };
}

/** assetlinks.json for the app-link settings: empty without an Android package. */
export function assetLinksDocument(links: AppLinks) {
  return links.androidPackageName ? [{
    relation: ['delegate_permission/common.handle_all_urls'],
    target: { namespace: 'android_app', package_name: links.androidPackageName, sha256_cert_fingerprints: links.androidFingerprints },
  }] : [];
}
