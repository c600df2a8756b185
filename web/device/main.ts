// The device page: sign in, read the consent text and the retention schedule (GET /api/privacy) and give consent,
// choose a reference (the one the service enrolled, a selfie from the camera, or an ID photo), start a check, capture,
// tell the app it is done, poll the outcome. It shows only what the app tells a device: pass, fail, retry or pending;
// never scores. A relying party can copy this page: everything it does goes through the public HTTP API.
import { ApiError, apiFetch, apiJson, type Schemas } from '../shared/api.js';
import { startPage } from '../shared/bootstrap.js';
import { pagesConfig } from '../shared/config.js';
import { Camera, CameraError } from './camera.js';
import { captureDriver, CaptureFailed } from './capture.js';

type DeviceOutcome = Schemas['DeviceOutcome'];
type Privacy = Schemas['Privacy'];

/** The reference the check compares with: enrolled by the service (no image sent), or an image from this device. */
type Reference = { kind: 'enrolled' } | { kind: 'image'; image: Blob };

/**
 * Opened from a verification link (`?verification=<id>#link=<token>`): the token leaves the address bar and the
 * history at once (it is single use and a secret until exchanged), before anything else runs.
 */
const linkToken = ((): string | undefined => {
  const token = new URLSearchParams(location.hash.slice(1)).get('link') ?? undefined;
  if (token !== undefined) history.replaceState(null, '', `${location.pathname}${location.search}`);
  return new URLSearchParams(location.search).has('verification') ? token : undefined;
})();

const $ = <T extends HTMLElement>(id: string) => document.getElementById(id) as T;
const signedOutView = $('signed-out');
const checkView = $('check');
const signInButton = $<HTMLButtonElement>('sign-in');
const signOutButton = $<HTMLButtonElement>('sign-out');
const who = $('who');
const cameraProblem = $('camera-problem');
const problem = $('problem');
const video = $<HTMLVideoElement>('preview');
const consentText = $('consent-text');
const retentionBody = $('retention-body');
const consentGiven = $<HTMLInputElement>('consent-given');
const enrolledButton = $<HTMLButtonElement>('use-enrolled');
const selfieButton = $<HTMLButtonElement>('take-selfie');
const idPhoto = $<HTMLInputElement>('id-photo');
const referencePreview = $<HTMLImageElement>('reference-preview');
const referenceNote = $('reference-note');
const startButton = $<HTMLButtonElement>('start-check');
const progress = $('progress');
const outcome = $('outcome');
const faceUiContainer = $('face-ui');

const OUTCOME_TEXT: Record<Exclude<DeviceOutcome, 'pending'>, { title: string; guidance: string }> = {
  pass: { title: 'Passed', guidance: 'You are verified: the live person in front of the camera matches the reference photo.' },
  fail: { title: 'Failed', guidance: 'We could not verify that the person in front of the camera matches the reference photo. If you think this is a mistake, contact support.' },
  retry: {
    title: 'Try again',
    guidance: 'We could not get a clear result. Face the camera in even light, take off glasses, a hat or a mask, keep still, then select Start check again.',
  },
};

const camera = new Camera(video);
let reference: Reference | undefined;

/**
 * This browser's device id (deviceCorrelationId on every check), kept in localStorage: the back office can then tell
 * one device's checks apart, and lockouts can count per device. Random: it says nothing about the person.
 */
function deviceCorrelationId(): string {
  const key = 'liveness:deviceCorrelationId';
  let id = localStorage.getItem(key);
  if (!id || !/^[\x21-\x7e]{1,64}$/.test(id)) {
    id = `web-${crypto.randomUUID()}`;
    localStorage.setItem(key, id);
  }
  return id;
}

function showProblem(element: HTMLElement, message: string | undefined): void {
  element.textContent = message ?? '';
  element.hidden = !message;
}

function setReference(chosen: Reference | undefined, note: string): void {
  reference = chosen;
  if (referencePreview.src) URL.revokeObjectURL(referencePreview.src);
  const image = chosen?.kind === 'image' ? chosen.image : undefined;
  referencePreview.hidden = !image;
  if (image) referencePreview.src = URL.createObjectURL(image);
  else referencePreview.removeAttribute('src');
  referenceNote.textContent = note;
  enrolledButton.setAttribute('aria-pressed', String(chosen?.kind === 'enrolled'));
}

/** The consent text of the current version and the retention schedule, as the app publishes them. */
function showPrivacy(privacy: Privacy): void {
  const current = privacy.consent.versions.find((v) => v.version === privacy.consent.currentVersion);
  const text = document.createElement('p');
  text.textContent = current?.text ?? 'The consent text could not be found.';
  const version = Object.assign(document.createElement('p'), {
    className: 'note', textContent: `Consent text version ${privacy.consent.currentVersion}${current ? `, published ${current.publishedDate}` : ''}.`,
  });
  consentText.replaceChildren(text, version);
  retentionBody.replaceChildren(...privacy.retention.map((row) => {
    const tr = document.createElement('tr');
    tr.append(Object.assign(document.createElement('td'), { textContent: row.description }), Object.assign(document.createElement('td'), { textContent: row.kept }));
    return tr;
  }));
}

async function loadPrivacy(apiBase: string): Promise<Privacy> {
  let response: Response;
  try {
    response = await fetch(`${apiBase}/privacy`, { cache: 'no-store' });
  } catch {
    throw new Error('The consent text could not be loaded. Check your connection, then reload the page.');
  }
  if (!response.ok) throw new Error(`The consent text could not be loaded (${response.status}). Reload the page to try again.`);
  return (await response.json()) as Privacy;
}

function showOutcome(status: DeviceOutcome | undefined): void {
  outcome.className = `outcome ${status ?? ''}`;
  if (!status) { outcome.textContent = ''; return; }
  if (status === 'pending') {
    outcome.textContent = 'Waiting for the result. A person may need to review this check; you can keep this page open.';
    return;
  }
  const { title, guidance } = OUTCOME_TEXT[status];
  outcome.replaceChildren(Object.assign(document.createElement('strong'), { textContent: title }), document.createTextNode(`. ${guidance}`));
}

/** An API refusal in words a person can act on (the API's own message stays for the unexpected ones). */
function apiMessage(error: ApiError): string {
  switch (error.code) {
    case 'TooManyAttempts': return 'Too many attempts in a short time. Wait a while before you try again.';
    case 'QuotaExceeded': return 'You have started too many checks. Wait a few minutes, then try again.';
    case 'InvalidImage': return 'The reference photo needs exactly one clear face. Use another photo.';
    case 'InvalidImageSize': return 'The reference photo is too small or too large (1 KB to 6 MB).';
    case 'FaceUnavailable': case 'StorageUnavailable': return 'The service is busy. Try again in a minute.';
    case 'ConsentRequired': return 'We need your consent for this version of the consent text. Read it again (reload the page), tick the box, then start the check.';
    case 'ReferenceEnrolled': return 'The service already has a reference photo enrolled for you. Choose "Use my enrolled reference", then start the check.';
    case 'ReferenceRequired': return 'No reference photo is enrolled for you, and this service only checks against enrolled references. Ask the service to enrol one for you.';
    case 'DeviceReferenceNotAllowed': return 'This service only checks against a reference photo it enrolled for you. Choose "Use my enrolled reference".';
    case 'MissingVerifyImage': return 'No reference photo is enrolled for you. Take a reference selfie or choose an ID photo instead.';
    case 'ReferenceUnavailable': return 'Your enrolled reference photo is being replaced right now. Try again in a minute.';
    case 'SubjectErasing': return 'Your data is being erased at your request, so no check can start now.';
    default: return error.status === 401 ? 'Your sign-in has expired. Sign in again.' : error.message;
  }
}

async function pollOutcome(api: string, token: string, sessionId: string): Promise<DeviceOutcome> {
  const deadline = Date.now() + 10 * 60_000;
  let delay = 500;
  for (;;) {
    const { status } = await apiJson<Schemas['DeviceStatus']>(`${api}/liveness-sessions/${sessionId}/status`, token);
    if (status !== 'pending' || Date.now() > deadline) return status;
    showOutcome('pending');
    await new Promise((resolve) => setTimeout(resolve, delay));
    delay = Math.min(delay * 1.5, 5_000);
  }
}

/** A verification link exchanged for an access token: no sign-in; the check verifies against the link's reference. */
interface LinkStart { accessToken: string; verificationId: string; returnUrl?: string }

const LINK_GONE: Record<string, string> = {
  LinkUsed: 'This link has already been used. Ask the service that sent it to you for a new one.',
  LinkExpired: 'This link has expired. Ask the service that sent it to you for a new one.',
  LinkInvalid: 'This link is not valid any more. Ask the service that sent it to you for a new one.',
};

async function exchangeLink(apiBase: string, token: string): Promise<LinkStart | undefined> {
  let response: Response;
  try {
    response = await fetch(`${apiBase}/verification-links/exchange`, {
      method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify({ token }), cache: 'no-store',
    });
  } catch {
    showProblem(problem, 'The service could not be reached. Check your connection, then open the link again.');
    return undefined;
  }
  const body = (await response.json().catch(() => undefined)) as (Schemas['VerificationLinkExchange'] & Partial<Schemas['ErrorResponse']>) | undefined;
  if (!response.ok || !body?.accessToken) {
    showProblem(problem, LINK_GONE[body?.error?.code ?? ''] ?? 'This link cannot be used. Ask the service that sent it to you for a new one.');
    return undefined;
  }
  return { accessToken: body.accessToken, verificationId: body.verificationId, ...(body.returnUrl ? { returnUrl: body.returnUrl } : {}) };
}

/** Back to the relying party: its returnUrl with the verification id and the coarse status (never scores). */
function returnTo(link: LinkStart, status: DeviceOutcome): void {
  if (!link.returnUrl) return;
  const url = new URL(link.returnUrl);
  url.searchParams.set('verificationId', link.verificationId);
  url.searchParams.set('status', status);
  location.assign(url.toString());
}

async function main(): Promise<void> {
  let token: string;
  let link: LinkStart | undefined;
  let config: Awaited<ReturnType<typeof pagesConfig>>;
  if (linkToken !== undefined) {
    config = await pagesConfig();
    signInButton.hidden = true;
    signOutButton.hidden = true;
    link = await exchangeLink(config.apiBase, linkToken);
    if (!link) return;
    token = link.accessToken;
    checkView.hidden = false;
    who.textContent = 'your verification link';
  } else {
    const started = await startPage('device', {
      signInButton, signOutButton, showProblem: (message) => showProblem(problem, message), onSignOut: () => camera.stop(),
    });
    config = started.config;
    if (!started.signedIn) {
      signedOutView.hidden = false;
      return;
    }
    token = started.signedIn.accessToken;
    checkView.hidden = false;
    who.textContent = started.signedIn.name;
  }

  let privacy: Privacy | undefined;
  try {
    privacy = await loadPrivacy(config.apiBase);
    showPrivacy(privacy);
  } catch (error) {
    consentText.replaceChildren();
    showProblem(problem, (error as Error).message);
  }
  if (link) {
    // The relying party chose the reference: the page sends no image of its own.
    enrolledButton.hidden = true;
    selfieButton.hidden = true;
    $('id-photo-label').hidden = true;
    setReference({ kind: 'enrolled' }, 'Reference: the photo the service that sent you this link holds.');
  } else if (privacy && !privacy.deviceReferenceAllowed) {
    // Only enrolled references count here: the device's own photo would be refused.
    selfieButton.hidden = true;
    $('id-photo-label').hidden = true;
    setReference({ kind: 'enrolled' }, 'Reference: the photo the service enrolled for you.');
  }

  const driver = captureDriver(config.device.capture, camera, faceUiContainer);
  // The camera is needed for a reference selfie, and (against the emulator) for the capture itself.
  const cameraReady = camera.start().then(() => true, (error: unknown) => {
    showProblem(cameraProblem, error instanceof CameraError ? error.message : String(error));
    return false;
  });
  void cameraReady.then((ok) => { selfieButton.disabled = !ok; });

  enrolledButton.addEventListener('click', () => {
    showProblem(problem, undefined);
    idPhoto.value = '';
    setReference({ kind: 'enrolled' }, 'Reference: the photo the service enrolled for you.');
  });

  selfieButton.addEventListener('click', async () => {
    showProblem(problem, undefined);
    try {
      setReference({ kind: 'image', image: await camera.frame() }, 'Reference: the selfie above.');
      idPhoto.value = '';
    } catch (error) {
      showProblem(problem, (error as Error).message);
    }
  });
  idPhoto.addEventListener('change', () => {
    const file = idPhoto.files?.[0];
    setReference(file ? { kind: 'image', image: file } : undefined, file ? `Reference: ${file.name}.` : 'No reference chosen yet.');
  });

  startButton.addEventListener('click', async () => {
    showProblem(problem, undefined);
    showOutcome(undefined);
    if (!privacy) {
      showProblem(problem, 'The consent text could not be loaded, so no check can start. Reload the page to try again.');
      return;
    }
    if (!consentGiven.checked) {
      showProblem(problem, 'Tick the consent box first: we can only check you after you have agreed to the consent text above.');
      consentGiven.focus();
      return;
    }
    if (!reference) {
      showProblem(problem, 'First choose a reference photo (your enrolled reference, a selfie or an ID photo): the check compares your live face with it.');
      return;
    }
    if (driver.usesPageCamera && !(await cameraReady)) {
      showProblem(problem, 'The check needs your camera. ' + cameraProblem.textContent);
      return;
    }
    startButton.disabled = true;
    try {
      progress.textContent = 'Starting the check…';
      const form = new FormData();
      form.append('consentVersion', privacy.consent.currentVersion);
      form.append('deviceCorrelationId', deviceCorrelationId());
      // With an enrolled reference the app uses it, and refuses an image sent next to it.
      if (reference.kind === 'image') form.append('verifyImage', reference.image, reference.image instanceof File ? reference.image.name : 'reference.jpg');
      const started = await apiJson<Schemas['StartedSession']>(`${config.apiBase}/liveness-sessions`, token, {
        method: 'POST', body: form, headers: { 'idempotency-key': crypto.randomUUID() },
      });
      progress.textContent = 'Look at the camera and keep still…';
      // A session made for an attested app carries no token (the app fetches it sealed); the browser never asks for one.
      if (!started.authToken) throw new Error('This check needs the attested app, not the browser.');
      const captured = await driver.capture({ sessionId: started.sessionId, authToken: started.authToken });
      progress.textContent = 'Checking…';
      // The digest the capture reported goes with the completion: the app fails a result whose digest is not Face's.
      await apiFetch(`${config.apiBase}/liveness-sessions/${started.sessionId}/complete`, token, captured.digest
        ? { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify({ digest: captured.digest }) }
        : { method: 'POST' });
      // The check's id, for support: shown while it waits (a review can take a while) and afterwards.
      progress.textContent = `Check ${started.sessionId}: waiting for the result.`;
      const result = await pollOutcome(config.apiBase, token, started.sessionId);
      showOutcome(result);
      progress.textContent = `Check ${started.sessionId}.`;
      if (link && result !== 'pending') returnTo(link, result);
    } catch (error) {
      progress.textContent = '';
      if (error instanceof ApiError) showProblem(problem, apiMessage(error));
      else if (error instanceof CaptureFailed || error instanceof CameraError) showProblem(problem, error.message);
      else showProblem(problem, `Something went wrong: ${(error as Error).message}`);
    } finally {
      startButton.disabled = false;
    }
  });
}

main().catch((error: unknown) => showProblem(problem, `The page could not start: ${(error as Error).message}`));
