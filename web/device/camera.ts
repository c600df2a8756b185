// The camera: a live preview (getUserMedia) and still frames taken from it as JPEG.

/** A camera problem in words a person can act on. */
export class CameraError extends Error {}

export function cameraMessage(error: unknown): string {
  const name = error instanceof DOMException ? error.name : '';
  if (name === 'NotAllowedError' || name === 'SecurityError') {
    return 'Camera permission was denied. This check needs your camera: allow camera access for this page in your '
      + "browser's site settings (the camera icon in the address bar), then reload the page.";
  }
  if (name === 'NotFoundError' || name === 'OverconstrainedError') return 'No camera was found. Connect a camera, then reload the page.';
  if (name === 'NotReadableError') return 'The camera is in use by another app. Close it, then reload the page.';
  if (!navigator.mediaDevices?.getUserMedia) return 'This browser cannot use a camera here (the page must be opened over https).';
  return `The camera could not be started (${name || String(error)}).`;
}

export class Camera {
  private stream: MediaStream | undefined;

  constructor(private readonly video: HTMLVideoElement) {}

  get started(): boolean {
    return this.stream !== undefined;
  }

  /** @throws CameraError with a message for the person */
  async start(): Promise<void> {
    if (this.stream) return;
    try {
      this.stream = await navigator.mediaDevices.getUserMedia({
        video: { facingMode: 'user', width: { ideal: 640 }, height: { ideal: 480 } }, audio: false,
      });
    } catch (error) {
      throw new CameraError(cameraMessage(error));
    }
    this.video.srcObject = this.stream;
    await this.video.play().catch(() => undefined); // muted + playsinline: autoplay is allowed
  }

  stop(): void {
    for (const track of this.stream?.getTracks() ?? []) track.stop();
    this.stream = undefined;
    this.video.srcObject = null;
  }

  /**
   * A still frame as JPEG. A camera's first presented frame (sometimes two) can be all black, so frames are read
   * until one has content (bounded).
   */
  async frame(): Promise<Blob> {
    if (!this.stream) throw new CameraError('The camera is not on.');
    const canvas = document.createElement('canvas');
    for (let i = 0; i < 60; i++) {
      await nextFrame(this.video);
      if (!this.video.videoWidth) continue;
      canvas.width = this.video.videoWidth;
      canvas.height = this.video.videoHeight;
      const context = canvas.getContext('2d', { willReadFrequently: true })!;
      context.drawImage(this.video, 0, 0);
      if (hasContent(context.getImageData(0, 0, canvas.width, canvas.height).data)) {
        return new Promise((resolve, reject) => canvas.toBlob((blob) => (blob ? resolve(blob) : reject(new CameraError('The frame could not be encoded.'))), 'image/jpeg', 0.92));
      }
    }
    throw new CameraError('The camera shows only black. Uncover it, or check that the right camera is selected.');
  }
}

function nextFrame(video: HTMLVideoElement): Promise<void> {
  return new Promise((resolve) => {
    if ('requestVideoFrameCallback' in video) video.requestVideoFrameCallback(() => resolve());
    else requestAnimationFrame(() => resolve());
  });
}

function hasContent(pixels: Uint8ClampedArray): boolean {
  for (let i = 0; i < pixels.length; i += 4 * 97) if (pixels[i]! + pixels[i + 1]! + pixels[i + 2]! > 24) return true;
  return false;
}
