// A QR code of a verification link as inline SVG, so a person can move from a desktop to a phone. The symbol comes
// from qrcode-generator (vendor/qrcode-generator.js); the SVG is built here with DOM calls, one <path> for the dark
// modules: no markup strings, no eval, nothing the pages' CSP refuses.
import { qrcode } from '../vendor/qrcode-generator.js';

const SVG = 'http://www.w3.org/2000/svg';
const QUIET_ZONE = 4; // modules of light margin around the symbol, as the QR specification asks

/** An SVG QR code of `text` (error correction M), `size` CSS pixels wide, labelled for screen readers. */
export function qrCodeSvg(text: string, label: string, size = 232): SVGSVGElement {
  const code = qrcode(0, 'M');
  code.addData(text, 'Byte');
  code.make();
  const count = code.getModuleCount();
  const extent = count + 2 * QUIET_ZONE;
  let d = '';
  for (let row = 0; row < count; row++) {
    for (let col = 0; col < count; col++) if (code.isDark(row, col)) d += `M${col + QUIET_ZONE} ${row + QUIET_ZONE}h1v1h-1z`;
  }
  const svg = document.createElementNS(SVG, 'svg');
  for (const [name, value] of [['viewBox', `0 0 ${extent} ${extent}`], ['width', String(size)], ['height', String(size)],
    ['role', 'img'], ['aria-label', label], ['shape-rendering', 'crispEdges'], ['class', 'qr']]) svg.setAttribute(name!, value!);
  const background = document.createElementNS(SVG, 'rect');
  for (const [name, value] of [['width', String(extent)], ['height', String(extent)], ['fill', '#fff']]) background.setAttribute(name!, value!);
  const modules = document.createElementNS(SVG, 'path');
  modules.setAttribute('d', d);
  modules.setAttribute('fill', '#000');
  svg.append(background, modules);
  return svg;
}
