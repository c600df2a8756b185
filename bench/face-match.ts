// `npm run bench:faces` (= tsc, then node dist/bench/face-match.js): how well the Face emulator's vision decisions
// tell people apart. Embeds a labelled set of face photos with the emulator's own analyzer (Human FaceRes on tfjs
// wasm), scores every same-person and different-person pair with the emulator's own cosine → matchConfidence mapping,
// prints a table and writes bench/results/face-match.json. See dev/face-emulator/README.md "Vision decisions".
//
// Photos: the repo's two public-domain portraits (test/fixtures/images), "captures" derived from each (crop, scale,
// JPEG re-encode, brightness, blur, mirror, tilt), and, when present in node_modules, photos that ship inside the
// @vladmandic/human package: several different photos of its author (the only same-person set with genuinely different
// photos we have) and four women from one of its screenshots. Those are read at run time, never copied into the repo.
import { existsSync, mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import sharp from 'sharp';
import { cosineSimilarity, SIMILARITY_CALIBRATION, similarityToConfidence } from '../dev/face-emulator/decision-engine.js';
import { createImageAnalyzer, type ImageAnalysis } from '../dev/face-emulator/image-analyzer.js';

const REPO_ROOT = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '../..');
/** The app's default DECISION_MATCH_THRESHOLD and the service's default verifyConfidenceThreshold. */
const APP_THRESHOLD = 0.8;
const IDENTICAL_THRESHOLD = 0.5;

interface Photo { id: string; identity: string; source: string; bytes: Buffer }
interface Embedded extends Photo { embedding: number[]; faceSide: number; ms: number }

const fixture = (name: string): Buffer => readFileSync(path.join(REPO_ROOT, 'test/fixtures/images', name));

/** Mild "capture" variants of one portrait: what a camera frame of the same face might look like. */
async function derivedCaptures(bytes: Buffer): Promise<Array<{ variant: string; bytes: Buffer }>> {
  const { width = 0, height = 0 } = await sharp(bytes).metadata();
  return [
    { variant: 'crop 80% + 300 px + JPEG q70', bytes: await sharp(bytes).extract({ left: Math.round(width * 0.1), top: Math.round(height * 0.05), width: Math.round(width * 0.8), height: Math.round(height * 0.8) }).resize(300).jpeg({ quality: 70 }).toBuffer() },
    { variant: 'brightness 0.6', bytes: await sharp(bytes).modulate({ brightness: 0.6 }).jpeg({ quality: 80 }).toBuffer() },
    { variant: 'brightness 1.3', bytes: await sharp(bytes).modulate({ brightness: 1.3 }).jpeg({ quality: 80 }).toBuffer() },
    { variant: 'scaled to 200 px, JPEG q60', bytes: await sharp(bytes).resize(200).jpeg({ quality: 60 }).toBuffer() },
    { variant: 'blur sigma 2', bytes: await sharp(bytes).blur(2).jpeg().toBuffer() },
    { variant: 'mirrored', bytes: await sharp(bytes).flop().jpeg().toBuffer() },
    { variant: 'tilted 10 degrees', bytes: await sharp(bytes).rotate(10, { background: '#808080' }).jpeg().toBuffer() },
  ];
}

async function photos(): Promise<{ list: Photo[]; humanAssets: boolean }> {
  const list: Photo[] = [];
  for (const [identity, file] of [['grace-hopper', 'face-grace-hopper.jpg'], ['astronaut', 'face-astronaut.png']] as const) {
    const bytes = fixture(file);
    list.push({ id: `${identity}`, identity, source: `test/fixtures/images/${file}`, bytes });
    for (const d of await derivedCaptures(bytes)) list.push({ id: `${identity} (${d.variant})`, identity, source: `derived from ${file}: ${d.variant}`, bytes: d.bytes });
  }
  let assets: string;
  try {
    assets = path.resolve(path.dirname(createRequire(import.meta.url).resolve('@vladmandic/human')), '../assets');
  } catch {
    return { list, humanAssets: false };
  }
  const faceid = path.join(assets, 'screenshot-faceid.jpg');
  const facedetect = path.join(assets, 'screenshot-facedetect.jpg');
  const samples = path.join(assets, 'samples.jpg');
  if (![faceid, facedetect, samples].every(existsSync)) return { list, humanAssets: false };
  const author = 'human-author';
  // A webcam frame from the FaceID demo (one face).
  list.push({ id: 'author: webcam frame', identity: author, source: 'human/assets/screenshot-faceid.jpg', bytes: readFileSync(faceid) });
  // The bottom row of the face-detect demo: five face tiles, ~150 px each; the first is the author, the others are
  // four women (different from the author by construction; whether two of them are one woman is not known, so
  // woman-woman pairs are not scored).
  const tiles: Array<[string, number]> = [['author: portrait tile', 8], ['woman 1', 164], ['woman 2', 321], ['woman 3', 478], ['woman 4', 632]];
  for (const [name, left] of tiles) {
    const bytes = await sharp(readFileSync(facedetect)).extract({ left, top: 345, width: 156, height: 156 }).resize(312).jpeg({ quality: 92 }).toBuffer();
    list.push({ id: name, identity: name.startsWith('author') ? author : name, source: `human/assets/screenshot-facedetect.jpg tile at x=${left}`, bytes });
  }
  // The dinner photo in the collage (third thumbnail), cropped round his head and upscaled ×3.
  const dinner = await sharp(readFileSync(samples)).extract({ left: 395, top: 0, width: 110, height: 100 }).resize(330).jpeg({ quality: 92 }).toBuffer();
  list.push({ id: 'author: dinner photo', identity: author, source: 'human/assets/samples.jpg third thumbnail, head crop ×3', bytes: dinner });
  return { list, humanAssets: true };
}

function pairKind(a: Photo, b: Photo): 'same' | 'different' | undefined {
  if (a.identity === b.identity) return 'same';
  // Women in the screenshot are only known to differ from everyone else, not from each other.
  if (a.identity.startsWith('woman') && b.identity.startsWith('woman')) return undefined;
  return 'different';
}

const round = (v: number, digits = 3): number => Math.round(v * 10 ** digits) / 10 ** digits;
const median = (values: number[]): number => {
  const s = [...values].sort((x, y) => x - y);
  const mid = Math.floor(s.length / 2);
  return s.length % 2 ? s[mid]! : (s[mid - 1]! + s[mid]!) / 2;
};

async function main(): Promise<void> {
  const t0 = performance.now();
  const analyzer = await createImageAnalyzer('human', { embeddings: true });
  const loadMs = performance.now() - t0;
  const { list, humanAssets } = await photos();
  const embedded: Embedded[] = [];
  const skipped: string[] = [];
  for (const photo of list) {
    const t = performance.now();
    const analysis: ImageAnalysis = await analyzer.analyze(photo.bytes);
    const ms = performance.now() - t;
    const face = analysis.faces[0];
    if (!face?.embedding || analysis.faces.length !== 1) { skipped.push(`${photo.id}: ${analysis.faces.length} faces`); continue; }
    embedded.push({ ...photo, embedding: face.embedding, faceSide: Math.min(face.rect.width, face.rect.height), ms });
  }

  const pairs: Array<{ a: string; b: string; kind: 'same' | 'different'; derived: boolean; cosine: number; matchConfidence: number }> = [];
  for (let i = 0; i < embedded.length; i++) {
    for (let j = i + 1; j < embedded.length; j++) {
      const a = embedded[i]!;
      const b = embedded[j]!;
      const kind = pairKind(a, b);
      if (!kind) continue;
      const cosine = cosineSimilarity(a.embedding, b.embedding);
      pairs.push({ a: a.id, b: b.id, kind, derived: a.source.startsWith('derived') || b.source.startsWith('derived'), cosine: round(cosine), matchConfidence: similarityToConfidence(cosine) });
    }
  }
  const same = pairs.filter((p) => p.kind === 'same');
  const sameDifferentPhotos = same.filter((p) => p.a.startsWith('author') && p.b.startsWith('author'));
  const different = pairs.filter((p) => p.kind === 'different');
  const summary = (list: typeof pairs): Record<string, number> => list.length === 0 ? { pairs: 0 } : ({
    pairs: list.length,
    cosineMin: Math.min(...list.map((p) => p.cosine)),
    cosineMedian: round(median(list.map((p) => p.cosine))),
    cosineMax: Math.max(...list.map((p) => p.cosine)),
    confidenceMin: Math.min(...list.map((p) => p.matchConfidence)),
    confidenceMedian: round(median(list.map((p) => p.matchConfidence)), 4),
    confidenceMax: Math.max(...list.map((p) => p.matchConfidence)),
    atOrAboveAppThreshold: list.filter((p) => p.matchConfidence >= APP_THRESHOLD).length,
    isIdentical: list.filter((p) => p.matchConfidence >= IDENTICAL_THRESHOLD).length,
  });
  // Ranking quality independent of the mapping: the probability that a random same pair outscores a random different one.
  let wins = 0;
  for (const s of same) for (const d of different) wins += s.cosine > d.cosine ? 1 : s.cosine === d.cosine ? 0.5 : 0;
  const auc = same.length && different.length ? round(wins / (same.length * different.length), 4) : Number.NaN;

  const result = {
    model: analyzer.name,
    calibration: { ...SIMILARITY_CALIBRATION, slope: round(SIMILARITY_CALIBRATION.slope, 3), formula: 'matchConfidence = 1 / (1 + exp(-slope * (cosine - center)))' },
    appThreshold: APP_THRESHOLD,
    identicalThreshold: IDENTICAL_THRESHOLD,
    humanAssets,
    modelLoadMs: round(loadMs, 0),
    msPerImage: { median: round(median(embedded.slice(1).map((e) => e.ms)), 0), note: 'decode + detect + mesh + FaceRes + quality, after the first image' },
    photos: embedded.map((e) => ({ id: e.id, identity: e.identity, source: e.source, faceSidePx: e.faceSide })),
    skipped,
    samePerson: summary(same),
    samePersonDifferentPhotos: summary(sameDifferentPhotos),
    differentPeople: summary(different),
    auc,
    pairs,
  };
  const out = path.join(REPO_ROOT, 'bench/results');
  mkdirSync(out, { recursive: true });
  writeFileSync(path.join(out, 'face-match.json'), `${JSON.stringify(result, null, 2)}\n`);

  const line = (label: string, s: Record<string, number>): string => s.pairs === 0 ? `${label.padEnd(34)} (none)` :
    `${label.padEnd(34)} ${String(s.pairs).padStart(4)} pairs  cosine ${s.cosineMin}..${s.cosineMax} (median ${s.cosineMedian})  `
    + `matchConfidence ${s.confidenceMin}..${s.confidenceMax} (median ${s.confidenceMedian})  >= ${APP_THRESHOLD}: ${s.atOrAboveAppThreshold}`;
  console.log(`Face emulator vision decisions: ${result.model}, ${embedded.length} photos (${skipped.length} skipped${skipped.length ? `: ${skipped.join('; ')}` : ''})`);
  console.log(`calibration: matchConfidence = 1/(1+exp(-${result.calibration.slope}*(cosine-${SIMILARITY_CALIBRATION.center})))`);
  console.log(line('same person (all)', result.samePerson));
  console.log(line('same person, different photos', result.samePersonDifferentPhotos));
  console.log(line('different people', result.differentPeople));
  console.log(`AUC (cosine) ${auc}; model load ${result.modelLoadMs} ms; median ${result.msPerImage.median} ms per image`);
  for (const p of sameDifferentPhotos) console.log(`  same   ${p.a} vs ${p.b}: cosine ${p.cosine} -> ${p.matchConfidence}`);
  const closest = [...different].sort((x, y) => y.cosine - x.cosine).slice(0, 5);
  for (const p of closest) console.log(`  diff   ${p.a} vs ${p.b}: cosine ${p.cosine} -> ${p.matchConfidence}`);
  console.log(`wrote ${path.relative(REPO_ROOT, path.join(out, 'face-match.json'))}`);
}

main().catch((error: unknown) => {
  console.error(error instanceof Error ? error.stack ?? error.message : String(error));
  process.exit(1);
});
