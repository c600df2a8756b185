// The app-link documents of the device-attestation protocol and of verification links, generated from settings
// (src/shared/app-link-documents.ts): Apple's apple-app-site-association and Android's Digital Asset Links.
// Served at /api/well-known/*; the OS fetches them at https://<host>/.well-known/*, so the front end maps that path
// here (docs/deploy.md). Public by design: they name the app, nothing secret.
import { appleAppSiteAssociationDocument, assetLinksDocument } from '../shared/app-link-documents.js';
import { httpOperation, type OperationHandler } from '../shared/auth.js';
import { json } from '../shared/http.js';

const cacheable = { 'cache-control': 'public, max-age=3600' };

/** The app-link settings; the settings schemas load with the first request, not while the functions are indexed. */
const appLinks = async () => (await import('../config/config.js')).appConfig().attestation.appLinks;

export const appleAppSiteAssociation: OperationHandler<'appleAppSiteAssociation'> = async () =>
  json(200, appleAppSiteAssociationDocument(await appLinks()), cacheable);

export const assetLinks: OperationHandler<'assetLinks'> = async () =>
  json(200, assetLinksDocument(await appLinks()), cacheable);

httpOperation('appleAppSiteAssociation', appleAppSiteAssociation);
httpOperation('assetLinks', assetLinks);
