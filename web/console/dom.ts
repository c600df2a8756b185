// Small DOM helpers shared by the console's views.
import { ApiError, apiFetch } from '../shared/api.js';

export function h<K extends keyof HTMLElementTagNameMap>(tag: K, props: Partial<HTMLElementTagNameMap[K]> = {}, ...children: Array<Node | string>): HTMLElementTagNameMap[K] {
  const node = Object.assign(document.createElement(tag), props);
  node.append(...children);
  return node;
}

export const $ = <T extends HTMLElement>(id: string) => document.getElementById(id) as T;

export const time = (iso: string | undefined) => (iso ? new Date(iso).toLocaleString() : '–');

export function outcomeBadge(outcome: string | undefined): HTMLElement {
  return h('span', { className: `badge ${outcome ?? 'none'}`, textContent: outcome ?? 'no result' });
}

/** A definition list of label → value rows. */
export function facts(rows: Array<[string, Node | string]>): HTMLDListElement {
  return h('dl', {}, ...rows.flatMap(([k, v]) => [h('dt', { textContent: k }), h('dd', {}, v)]));
}

/** A table with a header row; an empty body shows `empty` across all columns. */
export function table(label: string, headings: string[], rows: HTMLTableRowElement[], empty: string): HTMLTableElement {
  return h('table', { ariaLabel: label },
    h('thead', {}, h('tr', {}, ...headings.map((t) => h('th', { textContent: t })))),
    h('tbody', {}, ...(rows.length ? rows : [h('tr', {}, h('td', { colSpan: headings.length, textContent: empty }))])),
  );
}

/** An image from the API (with the token), shown from memory: the page never holds a storage URL. */
export async function loadImage(url: string, token: string, img: HTMLImageElement): Promise<void> {
  try {
    const blob = await (await apiFetch(url, token)).blob();
    img.src = URL.createObjectURL(blob);
  } catch (error) {
    img.replaceWith(h('span', { className: 'note', textContent: error instanceof ApiError && error.code === 'ImageNotFound' ? 'Removed by retention.' : 'Could not be loaded.' }));
  }
}

/** JSON in, JSON out, with the bearer token. */
export function jsonInit(method: string, body: unknown): RequestInit {
  return { method, headers: { 'content-type': 'application/json' }, body: JSON.stringify(body) };
}

/** An inline message in role=alert (errors) or role=status (done), replacing the previous one in `slot`. */
export function say(slot: HTMLElement, kind: 'alert' | 'status', text: string): void {
  slot.replaceChildren(h('p', { className: kind === 'alert' ? 'problem' : 'done', role: kind, textContent: text }));
}
