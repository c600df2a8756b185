// The device page: sign in, choose a reference (a selfie from the camera, or an ID photo), start a check, capture,
// tell the app it is done, poll the outcome. It shows only what the app tells a device: pass, fail, retry or pending;
// never scores. A relying party can copy this page: everything it does goes through the public HTTP API.
import { ApiError, apiFetch, apiJson } from '../shared/api.js';
import { pagesConfig } from '../shared/config.js';
import { OidcSignIn } from '../shared/oidc.js';
import { Camera, CameraError } from './camera.js';
import { captureDriver, CaptureFailed } from './capture.js';

type DeviceOutcome = 'pending' | 'pass' | 'fail' | 'retry';

const $ = <T extends HTMLElement>(id: string) => document.getElementById(id) as T;
const signedOutView = $('signed-out');
const checkView = $('check');
const signInButton = $<HTMLButtonElement>('sign-in');
const signOutButton = $<HTMLButtonElement>('sign-out');
const who = $('who');
const cameraProblem = $('camera-problem');
const problem = $('problem');
const video = $<HTMLVideoElement>('preview');
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
let reference: Blob | undefined;

function showProblem(element: HTMLElement, message: string | undefined): void {
  element.textContent = message ?? '';
  element.hidden = !message;
}

function setReference(image: Blob | undefined, note: string): void {
  reference = image;
  if (referencePreview.src) URL.revokeObjectURL(referencePreview.src);
  referencePreview.hidden = !image;
  if (image) referencePreview.src = URL.createObjectURL(image);
  referenceNote.textContent = note;
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
    default: return error.status === 401 ? 'Your sign-in has expired. Sign in again.' : error.message;
  }
}

async function pollOutcome(api: string, token: string, sessionId: string): Promise<DeviceOutcome> {
  const deadline = Date.now() + 10 * 60_000;
  let delay = 500;
  for (;;) {
    const { status } = await apiJson<{ status: DeviceOutcome }>(`${api}/liveness-sessions/${sessionId}/status`, token);
    if (status !== 'pending' || Date.now() > deadline) return status;
    showOutcome('pending');
    await new Promise((resolve) => setTimeout(resolve, delay));
    delay = Math.min(delay * 1.5, 5_000);
  }
}

async function main(): Promise<void> {
  const config = await pagesConfig();
  const signIn = new OidcSignIn(config.device.oidc, 'device');
  signInButton.addEventListener('click', () => { void signIn.signIn().catch((e: Error) => showProblem(problem, e.message)); });
  signOutButton.addEventListener('click', () => { signIn.signOut(); camera.stop(); location.reload(); });

  let session;
  try {
    session = (await signIn.completeRedirect()) ?? signIn.current();
  } catch (error) {
    showProblem(problem, (error as Error).message);
  }
  if (!session) {
    signedOutView.hidden = false;
    return;
  }
  const token = session.accessToken;
  checkView.hidden = false;
  who.textContent = session.name;

  const driver = captureDriver(config.device.capture, camera, faceUiContainer);
  // The camera is needed for a reference selfie, and (against the emulator) for the capture itself.
  const cameraReady = camera.start().then(() => true, (error: unknown) => {
    showProblem(cameraProblem, error instanceof CameraError ? error.message : String(error));
    return false;
  });
  void cameraReady.then((ok) => { selfieButton.disabled = !ok; });

  selfieButton.addEventListener('click', async () => {
    showProblem(problem, undefined);
    try {
      setReference(await camera.frame(), 'Reference: the selfie above.');
      idPhoto.value = '';
    } catch (error) {
      showProblem(problem, (error as Error).message);
    }
  });
  idPhoto.addEventListener('change', () => {
    const file = idPhoto.files?.[0];
    setReference(file, file ? `Reference: ${file.name}.` : 'No reference yet.');
  });

  startButton.addEventListener('click', async () => {
    showProblem(problem, undefined);
    showOutcome(undefined);
    if (!reference) {
      showProblem(problem, 'First take a reference selfie or choose an ID photo: the check compares your live face with it.');
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
      form.append('verifyImage', reference, reference instanceof File ? reference.name : 'reference.jpg');
      const started = await apiJson<{ sessionId: string; authToken: string }>(`${config.apiBase}/liveness-sessions`, token, {
        method: 'POST', body: form, headers: { 'idempotency-key': crypto.randomUUID() },
      });
      progress.textContent = 'Look at the camera and keep still…';
      await driver.capture(started);
      progress.textContent = 'Checking…';
      await apiFetch(`${config.apiBase}/liveness-sessions/${started.sessionId}/complete`, token, { method: 'POST' });
      showOutcome(await pollOutcome(config.apiBase, token, started.sessionId));
      progress.textContent = `Check ${started.sessionId}.`;
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
