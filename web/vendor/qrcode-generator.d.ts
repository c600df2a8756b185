// The console loads qrcode-generator as a plain ES module copied from the package (its dist/qrcode.mjs, served as
// dist/web/vendor/qrcode-generator.js by scripts/build-pages.ts: no bundler, no import map). The package's own
// declaration describes its CommonJS build (`export =` of a global), so this states the ES module's named export,
// with the part of the package's QRCode interface the console uses.
export type ErrorCorrectionLevel = 'L' | 'M' | 'Q' | 'H';

export interface QRCode {
  addData(data: string, mode?: 'Numeric' | 'Alphanumeric' | 'Byte' | 'Kanji'): void;
  make(): void;
  getModuleCount(): number;
  isDark(row: number, col: number): boolean;
}

/** typeNumber 0 picks the smallest symbol that holds the data. */
export declare function qrcode(typeNumber: number, errorCorrectionLevel: ErrorCorrectionLevel): QRCode;
export default qrcode;
