// The liveness capture, behind one small interface with two implementations:
//  - EmulatorCapture: against the repo's Face emulator, the page plays the capture itself: a frame from the camera,
//    sent to the emulator's device endpoint with the session token (what Microsoft's client SDK does against Face);
//  - VisionFaceUiCapture: against real Azure AI Face, the session token goes to Microsoft's Azure AI Vision Face UI
//    web component (`azure-ai-vision-face-ui`), which runs the camera, guides the person and talks to Face. Its
//    package is gated by Microsoft, so it is not a dependency: a developer who has access copies it next to the pages
//    and points `device.capture.moduleUrl` at it (README, "Device page against real Face").
// Either way the page learns no decision from the capture: it tells the app it is done, passing on the result digest
// the capture reported (the app compares it with Face's: digest binding), and polls the app's status.
import type { CaptureConfig } from '../shared/config.js';
import type { Camera } from './camera.js';

export interface LivenessSessionGrant { sessionId: string; authToken: string }

/** What the capture reports on success: the result digest (LivenessDetectionSuccess.digest), when it gives one. */
export interface CaptureResult { digest?: string }

const HEX_DIGEST = /^[0-9A-Fa-f]{16,128}$/;
const digestOf = (value: unknown): CaptureResult => {
  const digest = (value as { digest?: unknown } | undefined)?.digest;
  return typeof digest === 'string' && HEX_DIGEST.test(digest) ? { digest } : {};
};

export interface CaptureDriver {
  /** Whether the page's own camera preview is used (the web component brings its own). */
  readonly usesPageCamera: boolean;
  /** Runs the capture; resolves when the device side is done. @throws CaptureFailed with a message for the person */
  capture(grant: LivenessSessionGrant): Promise<CaptureResult>;
}

export class CaptureFailed extends Error {}

export function captureDriver(config: CaptureConfig, camera: Camera, container: HTMLElement): CaptureDriver {
  return config.kind === 'emulator'
    ? new EmulatorCapture(config.endpoint, camera, config.apiVersion ?? 'v1.2')
    : new VisionFaceUiCapture(config.moduleUrl, container);
}

export class EmulatorCapture implements CaptureDriver {
  readonly usesPageCamera = true;

  constructor(private readonly endpoint: string, private readonly camera: Camera, private readonly apiVersion: string) {}

  async capture(grant: LivenessSessionGrant): Promise<CaptureResult> {
    const frame = await this.camera.frame();
    const form = new FormData();
    form.append('Content', frame, 'capture.jpg');
    form.append('Metadata', JSON.stringify({ client: 'face-liveness-functions device page', capturedAt: new Date().toISOString() }));
    let response: Response;
    try {
      response = await fetch(`${this.endpoint.replace(/\/+$/, '')}/face/${encodeURIComponent(this.apiVersion)}/detectLivenessWithVerify/singleModal`, {
        method: 'POST', headers: { authorization: `Bearer ${grant.authToken}` }, body: form,
      });
    } catch {
      throw new CaptureFailed('The capture could not be sent. Check your connection and try again.');
    }
    if (response.status === 401) throw new CaptureFailed('This check has expired. Start a new check.');
    if (response.status === 403) throw new CaptureFailed('This check has had its attempts. Start a new check.');
    if (!response.ok) throw new CaptureFailed('The capture was not accepted. Try again.');
    // v1.3 answers with the attempt's digest, as the client SDK reports it to its app; v1.2 answers 204.
    return response.status === 200 ? digestOf(await response.json().catch(() => undefined)) : {};
  }
}

/** The slice of Microsoft's web component this page uses (see its API reference). */
interface FaceUiElement extends HTMLElement {
  start(sessionAuthorizationToken: string): Promise<unknown>;
}

export class VisionFaceUiCapture implements CaptureDriver {
  readonly usesPageCamera = false;

  constructor(private readonly moduleUrl: string, private readonly container: HTMLElement) {}

  async capture(grant: LivenessSessionGrant): Promise<CaptureResult> {
    try {
      await import(/* the developer's copy of the gated package */ this.moduleUrl);
    } catch {
      throw new CaptureFailed('The Face capture component is not installed on this site (see the README).');
    }
    const element = document.createElement('azure-ai-vision-face-ui') as FaceUiElement;
    this.container.replaceChildren(element);
    try {
      // LivenessDetectionSuccess: its digest binds the result the app collects to this capture.
      return digestOf(await element.start(grant.authToken));
    } catch (error) {
      // LivenessDetectionError carries a livenessError code (e.g. CameraPermissionDenied); the app decides the outcome.
      const code = (error as { livenessError?: string } | undefined)?.livenessError;
      throw new CaptureFailed(code === 'CameraPermissionDenied'
        ? 'Camera permission was denied. Allow camera access for this page, then start the check again.'
        : `The capture did not finish${code ? ` (${code})` : ''}. Try again.`);
    } finally {
      element.remove();
    }
  }
}
