// Image analysis for verify images and device captures: decode, find faces, grade quality for recognition and, in
// vision mode, compute a face embedding. The real implementation runs @vladmandic/human (BlazeFace detector +
// FaceMesh confirmation, FaceRes for embeddings) on the tfjs wasm backend, entirely offline with the models that ship
// inside the npm package (README "Image analysis"). It sits behind `ImageAnalyzer` so a stub (no ML) can stand in,
// and results (embeddings included) are memoized by SHA-256 because clients and benchmarks resend the same image.
import { existsSync, readFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import path from 'node:path';
import sharp, { type Sharp } from 'sharp';
import { decodeBmp, isBmp } from './bmp.js';
import { sha256Hex, type FaceRectangle, type QualityForRecognition } from './store.js';

export interface AnalyzedFace {
  rect: FaceRectangle;
  quality: QualityForRecognition;
  /** Detector confidence 0..1 (not exposed by the Face API; handy for debugging). */
  score: number;
  /** FaceRes descriptor (1024 numbers), present only when the analyzer was created with embeddings on. */
  embedding?: number[];
}

export interface ImageAnalysis {
  decodable: boolean;
  format?: string;
  width?: number;
  height?: number;
  /** Largest first. */
  faces: AnalyzedFace[];
}

export interface ImageAnalyzer {
  readonly name: string;
  /** True when analyses carry `embedding` on each face (vision decisions need it). */
  readonly embeddings: boolean;
  analyze(bytes: Uint8Array): Promise<ImageAnalysis>;
}

// ---------------------------------------------------------------------------------------------------------------
// Decoding

interface DecodedImage { format: string; width: number; height: number; data: Buffer }

/** Longest side fed to the detector. BlazeFace works on 256×256 anyway; this bounds memory for 6 MB/40 MP inputs. */
const MAX_DETECT_SIDE = 1280;

/**
 * Decodes JPEG/PNG/GIF (first frame)/WebP with sharp and BMP with our own decoder (libvips has no BMP loader).
 * Returns RGB pixels, downscaled to at most MAX_DETECT_SIDE, plus the original dimensions.
 */
export async function decodeImage(bytes: Uint8Array): Promise<{ original: { width: number; height: number; format: string }; image: DecodedImage } | undefined> {
  try {
    let pipeline: Sharp;
    let format: string;
    let width: number;
    let height: number;
    if (isBmp(bytes)) {
      const bmp = decodeBmp(bytes);
      if (!bmp) return undefined;
      pipeline = sharp(bmp.data, { raw: { width: bmp.width, height: bmp.height, channels: 3 } });
      format = 'bmp'; width = bmp.width; height = bmp.height;
    } else {
      // failOn 'error' rejects truncated/corrupt files instead of returning grey pixels.
      pipeline = sharp(bytes, { failOn: 'error', pages: 1, limitInputPixels: 100_000_000 });
      const meta = await pipeline.metadata();
      format = meta.format ?? 'unknown';
      if (!['jpeg', 'png', 'gif', 'webp'].includes(format) || !meta.width || !meta.height) return undefined;
      width = meta.width; height = meta.height;
    }
    const scale = Math.min(1, MAX_DETECT_SIDE / Math.max(width, height));
    if (scale < 1) pipeline = pipeline.resize(Math.round(width * scale), Math.round(height * scale), { fit: 'fill' });
    const { data, info } = await pipeline.removeAlpha().toColourspace('srgb').raw().toBuffer({ resolveWithObject: true });
    if (info.channels !== 3) return undefined;
    return { original: { width, height, format }, image: { format, width: info.width, height: info.height, data } };
  } catch {
    return undefined;
  }
}

// ---------------------------------------------------------------------------------------------------------------
// Quality for recognition (heuristic, README "Image analysis": no model outputs this category)

export interface QualitySignals { minSidePx: number; yawDeg: number; pitchDeg: number; laplacianVariance: number; luminance: number }

export function gradeQuality(s: QualitySignals): QualityForRecognition {
  const angle = Math.max(Math.abs(s.yawDeg), Math.abs(s.pitchDeg));
  if (s.minSidePx >= 200 && angle <= 20 && s.laplacianVariance >= 300 && s.luminance >= 60 && s.luminance <= 200) return 'high';
  if (s.minSidePx >= 100 && angle <= 35 && s.laplacianVariance >= 80) return 'medium';
  return 'low';
}

/** Sharpness (variance of the 4-neighbour Laplacian) and mean luminance of a 112×112 grey crop of the face. */
async function cropSignals(image: DecodedImage, box: [number, number, number, number]): Promise<{ laplacianVariance: number; luminance: number }> {
  const left = Math.max(0, Math.floor(box[0]));
  const top = Math.max(0, Math.floor(box[1]));
  const width = Math.max(1, Math.min(image.width - left, Math.ceil(box[2])));
  const height = Math.max(1, Math.min(image.height - top, Math.ceil(box[3])));
  const size = 112;
  const grey = await sharp(image.data, { raw: { width: image.width, height: image.height, channels: 3 } })
    .extract({ left, top, width, height }).greyscale().resize(size, size, { fit: 'fill' }).raw().toBuffer();
  let sum = 0;
  for (const v of grey) sum += v;
  const lap: number[] = [];
  for (let y = 1; y < size - 1; y++) {
    for (let x = 1; x < size - 1; x++) {
      const i = y * size + x;
      lap.push(grey[i - 1]! + grey[i + 1]! + grey[i - size]! + grey[i + size]! - 4 * grey[i]!);
    }
  }
  const mean = lap.reduce((a, b) => a + b, 0) / lap.length;
  const variance = lap.reduce((a, b) => a + (b - mean) ** 2, 0) / lap.length;
  return { laplacianVariance: variance, luminance: sum / grey.length };
}

function toRect(box: [number, number, number, number], scale: number, original: { width: number; height: number }): FaceRectangle {
  const left = Math.max(0, Math.round(box[0] / scale));
  const top = Math.max(0, Math.round(box[1] / scale));
  return {
    top,
    left,
    width: Math.max(1, Math.min(original.width - left, Math.round(box[2] / scale))),
    height: Math.max(1, Math.min(original.height - top, Math.round(box[3] / scale))),
  };
}

// ---------------------------------------------------------------------------------------------------------------
// Human (BlazeFace + FaceMesh) on tfjs wasm

// Minimal structural types: Human's own .d.ts drags in tfjs typings we don't need, and we load the node-wasm
// bundle by file path (its package `exports` map doesn't expose it), so there is no typed import anyway.
interface HumanFace {
  box: [number, number, number, number]; score: number; boxScore: number; faceScore: number;
  rotation?: { angle?: { yaw: number; pitch: number; roll: number } } | null;
  embedding?: number[];
}
interface HumanLike {
  init(): Promise<void>;
  load(): Promise<void>;
  /** `config` is merged into the instance's config and stays there, so every call passes the switches it relies on. */
  detect(input: unknown, config?: unknown): Promise<{ face: HumanFace[]; error?: string | null }>;
}
interface TfLike {
  tensor4d(data: Int32Array | Uint8Array, shape: [number, number, number, number], dtype: 'int32'): unknown;
  dispose(t: unknown): void;
  getBackend(): string;
  io: {
    registerLoadRouter(router: (url: unknown) => unknown): void;
    getModelArtifactsForJSON(json: unknown, loadWeights: (manifest: Array<{ paths: string[]; weights: unknown[] }>) => Promise<[unknown[], ArrayBuffer]>): Promise<unknown>;
  };
}

/** BlazeFace candidates below this are dropped; FaceMesh then re-scores each candidate and rejects non-faces. */
const MIN_DETECTOR_CONFIDENCE = 0.2;

let humanSingleton: Promise<{ human: HumanLike; tf: TfLike }> | undefined;

/** Loads models once per process (tfjs keeps one global engine, so several emulators in one process share it). */
function loadHuman(): Promise<{ human: HumanLike; tf: TfLike }> {
  humanSingleton ??= (async () => {
    const require = createRequire(import.meta.url);
    const tf = require('@tensorflow/tfjs-core') as TfLike;
    const humanDir = path.dirname(require.resolve('@vladmandic/human')); // …/human/dist
    const { Human } = require(path.join(humanDir, 'human.node-wasm.js')) as { Human: new (config: unknown) => HumanLike };
    // tfjs-core only has http(s) loaders without tfjs-node; serve file:// model URLs from disk ourselves.
    tf.io.registerLoadRouter((url) => {
      if (typeof url !== 'string' || !url.startsWith('file://')) return null;
      const file = url.slice('file://'.length);
      return {
        load: async () => {
          const json = JSON.parse(readFileSync(file, 'utf8')) as unknown;
          return tf.io.getModelArtifactsForJSON(json, (manifest) => {
            const specs: unknown[] = [];
            const buffers: Buffer[] = [];
            for (const group of manifest) {
              specs.push(...group.weights);
              for (const p of group.paths) buffers.push(readFileSync(path.join(path.dirname(file), p)));
            }
            const all = Buffer.concat(buffers);
            return Promise.resolve([specs, all.buffer.slice(all.byteOffset, all.byteOffset + all.byteLength)]);
          });
        },
      };
    });
    const human = new Human({
      backend: 'wasm',
      modelBasePath: `file://${path.resolve(humanDir, '../models')}/`,
      wasmPath: `${path.dirname(require.resolve('@tensorflow/tfjs-backend-wasm'))}/`,
      wasmPlatformFetch: false, cacheModels: false, warmup: 'none', debug: false,
      // Stateless: no frame-to-frame caching (it would reuse results across unrelated images).
      cacheSensitivity: 0, skipAllowed: false,
      filter: { enabled: false }, gesture: { enabled: false }, body: { enabled: false }, hand: { enabled: false },
      object: { enabled: false }, segmentation: { enabled: false },
      face: {
        enabled: true,
        // maxDetected > 1 so "more than one face" can be reported.
        detector: { rotation: false, maxDetected: 5, minConfidence: MIN_DETECTOR_CONFIDENCE, return: false },
        // FaceMesh is what makes this honest: BlazeFace alone scores the cat fixture 0.83 and the coffee cup 0.29,
        // while the mesh's faceScore rejects both. It also gives yaw/pitch for the quality heuristic.
        mesh: { enabled: true },
        // FaceRes (description) is switched per call: only vision-mode analyzers pay its ~60 ms; Human loads the
        // model on the first call that enables it.
        iris: { enabled: false }, emotion: { enabled: false }, description: { enabled: false, minConfidence: 0 },
        antispoof: { enabled: false }, liveness: { enabled: false }, attention: { enabled: false },
      },
    });
    await human.init();
    await human.load();
    return { human, tf };
  })();
  humanSingleton.catch(() => { humanSingleton = undefined; });
  return humanSingleton;
}

/**
 * Human keeps per-call state (and per-call config, see HumanLike.detect) in its one instance, which every analyzer in
 * the process shares; one detection at a time keeps results independent.
 */
let humanQueue: Promise<unknown> = Promise.resolve();
function runExclusive<T>(work: () => Promise<T>): Promise<T> {
  const run = humanQueue.then(work);
  humanQueue = run.catch(() => undefined);
  return run;
}

export interface HumanAnalyzerOptions {
  /** Compute a FaceRes embedding for every face (vision decisions). Default false. */
  embeddings?: boolean;
}

export class HumanImageAnalyzer implements ImageAnalyzer {
  readonly name: string;
  readonly embeddings: boolean;

  private constructor(private readonly engine: { human: HumanLike; tf: TfLike }, options: HumanAnalyzerOptions) {
    this.embeddings = options.embeddings ?? false;
    this.name = this.embeddings ? 'human-blazeface-facemesh-faceres-wasm' : 'human-blazeface-facemesh-wasm';
  }

  /** Loads the models and runs one warm-up detection so the first real request doesn't pay kernel set-up. */
  static async create(options: HumanAnalyzerOptions = {}): Promise<HumanImageAnalyzer> {
    const analyzer = new HumanImageAnalyzer(await loadHuman(), options);
    const require = createRequire(import.meta.url);
    const sample = path.resolve(path.dirname(require.resolve('@vladmandic/human')), '../assets/screenshot-faceid.jpg');
    // A photo with a face also warms up the FaceMesh kernels; fall back to a flat image if the asset is missing.
    const warm = existsSync(sample) ? readFileSync(sample)
      : await sharp({ create: { width: 256, height: 256, channels: 3, background: '#808080' } }).png().toBuffer();
    await analyzer.analyze(warm);
    return analyzer;
  }

  async analyze(bytes: Uint8Array): Promise<ImageAnalysis> {
    const decoded = await decodeImage(bytes);
    if (!decoded) return { decodable: false, faces: [] };
    const { image, original } = decoded;
    const { tf, human } = this.engine;
    const found = await runExclusive(async () => {
      const input = tf.tensor4d(image.data, [1, image.height, image.width, 3], 'int32');
      try {
        const result = await human.detect(input, { face: { description: { enabled: this.embeddings } } });
        if (result.error) throw new Error(`face detection failed: ${result.error}`);
        return result.face;
      } finally {
        tf.dispose(input);
      }
    });
    const scale = image.width / original.width;
    const faces: AnalyzedFace[] = [];
    for (const face of found) {
      const signals = await cropSignals(image, face.box);
      const rect = toRect(face.box, scale, original);
      const toDeg = (rad: number | undefined): number => ((rad ?? 0) * 180) / Math.PI;
      const analyzed: AnalyzedFace = {
        rect,
        score: face.boxScore || face.score,
        quality: gradeQuality({
          minSidePx: Math.min(rect.width, rect.height),
          yawDeg: toDeg(face.rotation?.angle?.yaw),
          pitchDeg: toDeg(face.rotation?.angle?.pitch),
          ...signals,
        }),
      };
      if (this.embeddings) {
        if (!face.embedding || face.embedding.length === 0) throw new Error('face embedding missing from FaceRes');
        analyzed.embedding = face.embedding;
      }
      faces.push(analyzed);
    }
    faces.sort((a, b) => b.rect.width * b.rect.height - a.rect.width * a.rect.height);
    return { decodable: true, format: original.format, width: original.width, height: original.height, faces };
  }
}

/**
 * No-ML analyzer (FACE_EMULATOR_ENGINE=stub, or unit tests that must start fast): any decodable image has exactly
 * one centred face of half the shorter side, quality high. Decoding is still real, so undecodable input still fails.
 */
export class StubImageAnalyzer implements ImageAnalyzer {
  readonly name = 'stub';
  readonly embeddings = false;
  async analyze(bytes: Uint8Array): Promise<ImageAnalysis> {
    const decoded = await decodeImage(bytes);
    if (!decoded) return { decodable: false, faces: [] };
    const { width, height, format } = decoded.original;
    const side = Math.round(Math.min(width, height) / 2);
    return {
      decodable: true, format, width, height,
      faces: [{ rect: { top: Math.round((height - side) / 2), left: Math.round((width - side) / 2), width: side, height: side }, quality: 'high', score: 1 }],
    };
  }
}

/** LRU memo by SHA-256 of the bytes; caches the promise so concurrent requests for one image share one analysis. */
export class MemoizingImageAnalyzer implements ImageAnalyzer {
  private readonly cache = new Map<string, Promise<ImageAnalysis>>();
  hits = 0;
  misses = 0;

  constructor(private readonly inner: ImageAnalyzer, private readonly capacity = 256) {}

  get name(): string { return this.inner.name; }
  get embeddings(): boolean { return this.inner.embeddings; }

  analyze(bytes: Uint8Array): Promise<ImageAnalysis> {
    const key = sha256Hex(bytes);
    const cached = this.cache.get(key);
    if (cached) {
      this.hits++;
      this.cache.delete(key);
      this.cache.set(key, cached); // refresh recency
      return cached;
    }
    this.misses++;
    const pending = this.inner.analyze(bytes);
    this.cache.set(key, pending);
    pending.catch(() => this.cache.delete(key));
    while (this.cache.size > this.capacity) {
      const oldest = this.cache.keys().next().value;
      if (oldest === undefined) break;
      this.cache.delete(oldest);
    }
    return pending;
  }
}

export type EngineName = 'human' | 'stub';

export async function createImageAnalyzer(engine: EngineName = 'human', options: HumanAnalyzerOptions = {}): Promise<MemoizingImageAnalyzer> {
  if (engine === 'stub' && options.embeddings) throw new Error('the stub engine computes no face embeddings; vision decisions need the human engine');
  const inner = engine === 'stub' ? new StubImageAnalyzer() : await HumanImageAnalyzer.create(options);
  return new MemoizingImageAnalyzer(inner);
}
