// Unit tests for the Face emulator's building blocks and for behaviour that would disturb the shared emulator
// (global clock, global latency), using a private emulator instance with the no-ML stub engine.
import { spawn } from 'node:child_process';
import { existsSync, readFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import sharp from 'sharp';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { decodeBmp, encodeBmp24 } from '../../dev/face-emulator/bmp.js';
import { FaultInjector, faultsFromEnv } from '../../dev/face-emulator/faults.js';
import { gradeQuality, MemoizingImageAnalyzer, type ImageAnalysis, type ImageAnalyzer } from '../../dev/face-emulator/image-analyzer.js';
import { performDeviceAttempt } from '../../dev/face-emulator/device.js';
import { startFaceEmulator, type RunningFaceEmulator } from '../../dev/face-emulator/server.js';

const GRACE = readFileSync(new URL('../fixtures/images/face-grace-hopper.jpg', import.meta.url));

describe('BMP decoder', () => {
  it('round-trips a 24-bit BMP and rejects truncated or compressed files', async () => {
    const { data, info } = await sharp(GRACE).resize(31, 17, { fit: 'fill' }).removeAlpha().raw().toBuffer({ resolveWithObject: true });
    const bmp = encodeBmp24({ width: info.width, height: info.height, data });
    const decoded = decodeBmp(bmp);
    expect(decoded).toBeDefined();
    expect(decoded!.width).toBe(31);
    expect(decoded!.height).toBe(17);
    expect(decoded!.data.equals(data)).toBe(true);
    expect(decodeBmp(bmp.subarray(0, bmp.length - 10))).toBeUndefined();
    const rle = Buffer.from(bmp);
    rle.writeUInt32LE(1, 30); // BI_RLE8
    expect(decodeBmp(rle)).toBeUndefined();
    expect(decodeBmp(Buffer.from('not a bitmap at all, not at all'))).toBeUndefined();
  });

  it('decodes a top-down 32-bit BI_RGB BMP', () => {
    const width = 2; const height = 2;
    const buf = Buffer.alloc(54 + width * height * 4);
    buf.write('BM', 0, 'latin1'); buf.writeUInt32LE(buf.length, 2); buf.writeUInt32LE(54, 10); buf.writeUInt32LE(40, 14);
    buf.writeInt32LE(width, 18); buf.writeInt32LE(-height, 22); buf.writeUInt16LE(1, 26); buf.writeUInt16LE(32, 28);
    // first row: red, green; second row: blue, white (BGRA)
    Buffer.from([0, 0, 255, 0, 0, 255, 0, 0, 255, 0, 0, 0, 255, 255, 255, 0]).copy(buf, 54);
    expect([...decodeBmp(buf)!.data]).toEqual([255, 0, 0, 0, 255, 0, 0, 0, 255, 255, 255, 255]);
  });
});

describe('quality heuristic', () => {
  it('grades by size, pose, sharpness and luminance', () => {
    const base = { minSidePx: 260, yawDeg: 2, pitchDeg: 4, laplacianVariance: 2200, luminance: 113 };
    expect(gradeQuality(base)).toBe('high');
    expect(gradeQuality({ ...base, minSidePx: 150 })).toBe('medium');
    expect(gradeQuality({ ...base, laplacianVariance: 33 })).toBe('low');
    expect(gradeQuality({ ...base, luminance: 30 })).toBe('medium');
    expect(gradeQuality({ ...base, yawDeg: 40 })).toBe('low');
    expect(gradeQuality({ ...base, minSidePx: 72 })).toBe('low');
  });
});

describe('MemoizingImageAnalyzer', () => {
  it('analyzes each distinct image once and evicts least recently used entries', async () => {
    let calls = 0;
    const inner: ImageAnalyzer = { name: 'count', embeddings: false, analyze: async (): Promise<ImageAnalysis> => { calls++; return { decodable: false, faces: [] }; } };
    const memo = new MemoizingImageAnalyzer(inner, 2);
    const a = Buffer.from('a'); const b = Buffer.from('b'); const c = Buffer.from('c');
    await Promise.all([memo.analyze(a), memo.analyze(a), memo.analyze(Buffer.from('a'))]);
    expect(calls).toBe(1);
    await memo.analyze(b);
    await memo.analyze(a); // a is now most recent
    await memo.analyze(c); // evicts b
    expect(calls).toBe(3);
    await memo.analyze(a);
    expect(calls).toBe(3);
    await memo.analyze(b);
    expect(calls).toBe(4);
    expect(memo.hits).toBe(4);
  });
});

describe('FaultInjector', () => {
  it('applies only to matching Face paths, never to control calls, and honours maxFaults', () => {
    const faults = new FaultInjector({}, () => 0);
    expect(faults.decide('/face/v1.2/detectLivenessWithVerify-sessions')).toEqual({ kind: 'none', delayMs: 0 });
    faults.set({ errorRate: 1, errorStatus: 503, retryAfterSeconds: 3, latencyMs: 5, paths: ['sessions/abc$'], maxFaults: 1 });
    expect(faults.decide('/face/v1.2/detectLivenessWithVerify-sessions/xyz')).toEqual({ kind: 'none', delayMs: 0 });
    expect(faults.decide('/emulator/sessions/abc')).toEqual({ kind: 'none', delayMs: 0 });
    expect(faults.decide('/face/v1.2/detectLivenessWithVerify-sessions/ABC')).toEqual({ kind: 'error', delayMs: 5, status: 503, retryAfterSeconds: 3 });
    expect(faults.decide('/face/v1.2/detectLivenessWithVerify-sessions/abc')).toEqual({ kind: 'none', delayMs: 5 });
    faults.reset();
    expect(faults.current()).toEqual({ paths: ['^/face/'], injected: 0 });
  });

  it('reads settings from env and rejects bad values', () => {
    expect(faultsFromEnv({ FACE_EMULATOR_LATENCY_MS: '20', FACE_EMULATOR_ERROR_RATE: '0.5', FACE_EMULATOR_ERROR_STATUS: '503', FACE_EMULATOR_FAULT_PATHS: 'a, b' }))
      .toEqual({ latencyMs: 20, errorRate: 0.5, errorStatus: 503, paths: ['a', 'b'] });
    expect(faultsFromEnv({})).toEqual({});
    expect(() => faultsFromEnv({ FACE_EMULATOR_ERROR_STATUS: '404' })).toThrow();
    expect(() => faultsFromEnv({ FACE_EMULATOR_DROP_RATE: 'x' })).toThrow();
  });
});

describe('private emulator (stub engine)', () => {
  const key = 'unit-key';
  let emulator: RunningFaceEmulator;
  const lines: string[] = [];

  beforeAll(async () => {
    emulator = await startFaceEmulator({ port: 0, apiKey: key, engine: 'stub', latencyMs: 150, log: (l) => lines.push(l) });
  });
  afterAll(async () => { await emulator?.close(); });

  async function create(ttl = 600): Promise<{ sessionId: string; authToken: string }> {
    const form = new FormData();
    form.append('livenessOperationMode', 'Passive');
    form.append('deviceCorrelationId', 'unit-device');
    form.append('authTokenTimeToLiveInSeconds', String(ttl));
    form.append('verifyImage', new Blob([GRACE]), 'grace.jpg');
    const res = await fetch(`${emulator.url}/face/v1.2/detectLivenessWithVerify-sessions`, { method: 'POST', headers: { 'ocp-apim-subscription-key': key }, body: form });
    expect(res.status).toBe(200);
    return await res.json() as { sessionId: string; authToken: string };
  }

  it('reports the stub engine and adds the configured latency to Face calls only', async () => {
    const health = await (await fetch(`${emulator.url}/emulator/health`)).json();
    expect(health).toMatchObject({ status: 'ok', engine: 'stub', sessions: 0 });
    const t0 = Date.now();
    await create();
    expect(Date.now() - t0).toBeGreaterThanOrEqual(140);
    const t1 = Date.now();
    await fetch(`${emulator.url}/emulator/health`);
    expect(Date.now() - t1).toBeLessThan(140);
  });

  it('global clock advance expires tokens and sessions', async () => {
    const session = await create(60);
    const adv = await fetch(`${emulator.url}/emulator/clock`, {
      method: 'POST', headers: { 'ocp-apim-subscription-key': key, 'content-type': 'application/json' }, body: JSON.stringify({ advanceSeconds: 61 }),
    });
    expect(adv.status).toBe(200);
    expect((await performDeviceAttempt(emulator.url, session.authToken, GRACE)).status).toBe(401);
    await fetch(`${emulator.url}/emulator/clock`, {
      method: 'POST', headers: { 'ocp-apim-subscription-key': key, 'content-type': 'application/json' }, body: JSON.stringify({ advanceSeconds: 48 * 3600 }),
    });
    const get = await fetch(`${emulator.url}/face/v1.2/detectLivenessWithVerify-sessions/${session.sessionId}`, { headers: { 'ocp-apim-subscription-key': key } });
    expect(get.status).toBe(404);
    expect(get.headers.get('x-ms-error-code')).toBe('SessionNotFound');
    const list = await (await fetch(`${emulator.url}/emulator/sessions`, { headers: { 'ocp-apim-subscription-key': key } })).json();
    expect(list).toEqual({ sessions: [] });
  });

  it('matches the device path case-insensitively and logs without secrets', async () => {
    const session = await create();
    const form = new FormData();
    form.append('Content', new Blob([GRACE]), 'video.webp');
    form.append('Metadata', 'm');
    const res = await fetch(`${emulator.url}/face/v1.2/detectlivenesswithverify/singlemodal`, {
      method: 'POST', headers: { authorization: `Bearer ${session.authToken}` }, body: form,
    });
    expect(res.status).toBe(204);
    expect(lines.some((l) => /POST \/face\/v1\.2\/detectlivenesswithverify\/singlemodal 204/.test(l))).toBe(true);
    expect(lines.join('\n')).not.toContain(session.authToken);
    expect(lines.join('\n')).not.toContain(key);
  });
});

const mainJs = fileURLToPath(new URL('../../dist/dev/face-emulator/main.js', import.meta.url));
describe('CLI (dist/dev/face-emulator/main.js)', () => {
  it.skipIf(!existsSync(mainJs))('prints the listening line and stops on SIGTERM', async () => {
    const child = spawn(process.execPath, [mainJs], {
      env: { ...process.env, FACE_EMULATOR_PORT: '0', FACE_EMULATOR_ENGINE: 'stub', FACE_EMULATOR_KEY: 'cli-key' },
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    const lines = await new Promise<string[]>((resolve, reject) => {
      let out = '';
      child.stdout.on('data', (d: Buffer) => {
        out += d.toString();
        if (/decisions: .*\n/.test(out)) resolve(out.trim().split('\n'));
      });
      child.once('exit', (code) => reject(new Error(`exited early with ${code}`)));
    });
    const line = lines[0]!;
    expect(line).toMatch(/^Face emulator listening on http:\/\/127\.0\.0\.1:\d+$/);
    // The stub engine has no embeddings, so the CLI falls back to scripted decisions.
    expect(lines[1]).toMatch(/^Face emulator decisions: scripted /);
    const url = line.replace('Face emulator listening on ', '');
    expect((await fetch(`${url}/emulator/health`)).status).toBe(200);
    const exited = new Promise<number | null>((resolve) => child.once('exit', resolve));
    child.kill('SIGTERM');
    expect(await exited).toBe(0);
  });
});
