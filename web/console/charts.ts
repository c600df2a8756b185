// Small SVG charts drawn by hand: the dashboard needs three bar charts, which take less code than wiring a chart
// library into pages that have no bundler, and stay readable by a screen reader (each chart has a title and a text
// summary next to it).

const SVG = 'http://www.w3.org/2000/svg';

function el<K extends keyof SVGElementTagNameMap>(name: K, attributes: Record<string, string | number>, text?: string): SVGElementTagNameMap[K] {
  const node = document.createElementNS(SVG, name);
  for (const [key, value] of Object.entries(attributes)) node.setAttribute(key, String(value));
  if (text !== undefined) node.textContent = text;
  return node;
}

export interface Series { name: string; color: string; values: number[] }

/**
 * Stacked bars: one bar per label, one segment per series. `labelEvery` thins the x-axis labels.
 * @returns the <svg>, sized by the viewBox (it scales with its container)
 */
export function stackedBars(title: string, labels: string[], series: Series[], labelEvery = 1): SVGSVGElement {
  const width = 480;
  const height = 200;
  const left = 32;
  const bottom = 28;
  const top = 12;
  const totals = labels.map((_, i) => series.reduce((sum, s) => sum + (s.values[i] ?? 0), 0));
  const max = Math.max(1, ...totals);
  const plotHeight = height - top - bottom;
  const slot = (width - left - 8) / Math.max(1, labels.length);
  const svg = el('svg', { viewBox: `0 0 ${width} ${height}`, role: 'img', 'aria-label': title, class: 'chart' });
  svg.append(el('title', {}, title));
  for (const tick of niceTicks(max)) {
    const y = top + plotHeight - (tick / max) * plotHeight;
    svg.append(el('line', { x1: left, x2: width - 8, y1: y, y2: y, class: 'grid' }));
    svg.append(el('text', { x: left - 6, y: y + 4, 'text-anchor': 'end', class: 'axis' }, String(tick)));
  }
  labels.forEach((label, i) => {
    const x = left + i * slot + slot * 0.15;
    let y = top + plotHeight;
    for (const s of series) {
      const value = s.values[i] ?? 0;
      if (value <= 0) continue;
      const h = (value / max) * plotHeight;
      y -= h;
      const rect = el('rect', { x, y, width: slot * 0.7, height: h, fill: s.color });
      rect.append(el('title', {}, `${label}: ${value} ${s.name}`));
      svg.append(rect);
    }
    if (i % labelEvery === 0) svg.append(el('text', { x: x + slot * 0.35, y: height - 10, 'text-anchor': 'middle', class: 'axis' }, label));
  });
  return svg;
}

function niceTicks(max: number): number[] {
  const step = max <= 5 ? 1 : Math.pow(10, Math.floor(Math.log10(max))) * (max / Math.pow(10, Math.floor(Math.log10(max))) > 5 ? 2 : 1);
  const ticks: number[] = [];
  for (let t = 0; t <= max; t += step) ticks.push(t);
  return ticks;
}

/** A legend as HTML (colour swatch + name), for the charts above. */
export function legend(series: Array<Pick<Series, 'name' | 'color'>>): HTMLElement {
  const list = document.createElement('ul');
  list.className = 'legend';
  for (const s of series) {
    const item = document.createElement('li');
    const swatch = document.createElement('span');
    swatch.className = 'swatch';
    swatch.style.background = s.color;
    item.append(swatch, s.name);
    list.append(item);
  }
  return list;
}
