// The app-link documents: a relying party's verification link (<PAGES_ORIGIN>/device/?verification=<id>#link=<token>)
// opens the app where Universal Links are published for it, the attestation hand-over path (/native?s=) still does,
// and a plain visit to the device page (no `verification` query item) is not claimed by the app.
import { describe, expect, it } from 'vitest';
import { parseConfig } from '../../src/config/config.js';
import { appleAppSiteAssociationDocument, assetLinksDocument } from '../../src/shared/app-link-documents.js';

const APP = 'ABCDE12345.com.example.liveness';
const base = { AzureWebJobsStorage: 'UseDevelopmentStorage=true', FACE_ENDPOINT: 'http://127.0.0.1:1', DEVICE_AUTH_ISSUER: 'http://127.0.0.1:2', DEVICE_AUTH_AUDIENCE: 'a' };
const links = (env: Record<string, string> = {}) => parseConfig({ ...base, ATTESTATION_IOS_APP_ID: APP, ...env }).attestation.appLinks;

/**
 * Whether an AASA component matches a URL, as iOS reads one: `/` is a path pattern (`*` any run of characters, `?`
 * one), `?` maps query item names to value patterns (every named item must be there and match).
 */
function componentMatches(component: Record<string, unknown>, url: URL): boolean {
  const pattern = (p: string) => new RegExp(`^${p.replace(/[.+^${}()|[\]\\]/g, '\\$&').replace(/\*/g, '.*').replace(/\?/g, '.')}$`);
  if (!pattern(component['/'] as string).test(url.pathname)) return false;
  const query = (component['?'] ?? {}) as Record<string, string>;
  return Object.entries(query).every(([name, value]) => url.searchParams.has(name) && pattern(value).test(url.searchParams.get(name)!));
}
const opensApp = (document: ReturnType<typeof appleAppSiteAssociationDocument>, url: string) =>
  document.applinks.details.some((d) => d.components.some((c) => componentMatches(c, new URL(url))));

describe('apple-app-site-association', () => {
  it('claims verification links (/device/ with a verification id; the token in the fragment) and the attestation hand-over', () => {
    const aasa = appleAppSiteAssociationDocument(links());
    expect(aasa.applinks.details[0]!.appIDs).toEqual([APP]);
    expect(opensApp(aasa, 'https://pages.example/device/?verification=0193f0c2-7a3b-7c4d-8e5f-0123456789ab#link=abc')).toBe(true);
    expect(opensApp(aasa, 'https://pages.example/native?s=0193f0c2-7a3b-7c4d-8e5f-0123456789ab')).toBe(true);
  });

  it('leaves the device page without a verification (a person signing in in the browser) and the console to the browser', () => {
    const aasa = appleAppSiteAssociationDocument(links());
    expect(opensApp(aasa, 'https://pages.example/device/')).toBe(false);
    expect(opensApp(aasa, 'https://pages.example/device/?verification=')).toBe(false);
    expect(opensApp(aasa, 'https://pages.example/console/?verification=x')).toBe(false);
  });

  it('publishes no verification path with ATTESTATION_APPLINK_VERIFICATION_PATH=off, and another one when set', () => {
    const off = appleAppSiteAssociationDocument(links({ ATTESTATION_APPLINK_VERIFICATION_PATH: 'off' }));
    expect(opensApp(off, 'https://pages.example/device/?verification=v1')).toBe(false);
    expect(off.applinks.details[0]!.components).toHaveLength(1);
    const moved = appleAppSiteAssociationDocument(links({ ATTESTATION_APPLINK_VERIFICATION_PATH: '/verify/*' }));
    expect(opensApp(moved, 'https://pages.example/verify/?verification=v1')).toBe(true);
    expect(opensApp(moved, 'https://pages.example/device/?verification=v1')).toBe(false);
    expect(() => links({ ATTESTATION_APPLINK_VERIFICATION_PATH: 'device/*' })).toThrow(/ATTESTATION_APPLINK_VERIFICATION_PATH/);
  });

  it('assetlinks.json vouches for the Android app (its manifest names the paths, /device/ among them)', () => {
    expect(assetLinksDocument(links())).toEqual([]);
    const android = assetLinksDocument(links({ ATTESTATION_ANDROID_PACKAGE_NAME: 'com.example.liveness', ATTESTATION_ANDROID_SHA256_CERT_FINGERPRINTS: 'AA:BB' }));
    expect(android).toEqual([{
      relation: ['delegate_permission/common.handle_all_urls'],
      target: { namespace: 'android_app', package_name: 'com.example.liveness', sha256_cert_fingerprints: ['AA:BB'] },
    }]);
  });
});
