// Verifications: checks a relying party's back end started for one of its users (POST /api/verifications), each
// with its single-use link. The list (back-office GET /verifications, newest first, paged) shows where each came
// from, its link state (sent, opened, used, expired), its status and the relying party's clientReferenceId, with a
// link to the liveness session once the person started one. A verification's detail can issue a new link (POST
// /verifications/{id}/link, after a confirm step: the old link stops working) and shows it as a URL and a QR code,
// so the person can open it on a phone. The console never holds a link token except the one it just issued.
import { ApiError, apiJson, type Schemas } from '../shared/api.js';
import { $, facts, h, say, table, time } from './dom.js';
import { qrCodeSvg } from './qr.js';

type Item = Schemas['VerificationListItem'];
type Page = Schemas['VerificationPage'];

const PAGE_SIZE = 20;
/** How many list pages a direct visit to a verification's address looks through to find it. */
const MAX_LOOKUP_PAGES = 10;

/** What the list loaded, by id: the detail view shows these facts (the back office reads verifications by list). */
const known = new Map<string, Item>();

const sessionLink = (sessionId: string | undefined): Node | string =>
  sessionId ? h('a', { href: `#/sessions/${sessionId}`, textContent: sessionId, className: 'id' }) : '–';

const linkStateText: Record<string, string> = {
  sent: 'sent (not opened yet)', opened: 'opened', used: 'used', expired: 'expired',
};

/** The verifications table: newest first, paging with the API's continuation tokens. */
export class VerificationsList {
  private tokens: Array<string | undefined> = [undefined];
  private page = 0;

  constructor(private readonly api: string, private readonly token: string, failed: (e: unknown) => void) {
    $('verifications-next').addEventListener('click', () => { this.page++; void this.load().catch(failed); });
    $('verifications-previous').addEventListener('click', () => { this.page = Math.max(0, this.page - 1); void this.load().catch(failed); });
  }

  async load(): Promise<void> {
    const target = $('verifications-body');
    target.replaceChildren(h('p', { textContent: 'Loading…' }));
    const query = new URLSearchParams({ top: String(PAGE_SIZE) });
    const continuation = this.tokens[this.page];
    if (continuation) query.set('continuationToken', continuation);
    const result = await apiJson<Page>(`${this.api}/verifications?${query}`, this.token);
    this.tokens[this.page + 1] = result.continuationToken;
    ($('verifications-next') as HTMLButtonElement).disabled = !result.continuationToken;
    ($('verifications-previous') as HTMLButtonElement).disabled = this.page === 0;
    $('verifications-page').textContent = `Page ${this.page + 1}`;
    for (const item of result.value) known.set(item.verificationId, item);
    target.replaceChildren(table('Verifications', ['Created', 'Verification id', 'Origin', 'Link', 'Status', 'Client reference', 'Session'],
      result.value.map((item) => h('tr', {},
        h('td', {}, time(item.createdDateTime)),
        h('td', {}, h('a', { href: `#/verifications/${item.verificationId}`, textContent: item.verificationId, className: 'id' })),
        h('td', { textContent: item.origin }),
        h('td', { textContent: item.linkState }),
        h('td', { textContent: item.status }),
        h('td', { textContent: item.clientReferenceId ?? '–' }),
        h('td', {}, sessionLink(item.sessionId)),
      )), 'No verifications yet: a relying party creates them with POST /api/verifications.'));
  }
}

/** Finds a verification the list has not loaded yet (a direct visit): newest first, a bounded number of pages. */
async function lookUp(api: string, token: string, id: string): Promise<Item | undefined> {
  let continuationToken: string | undefined;
  for (let pages = 0; pages < MAX_LOOKUP_PAGES; pages++) {
    const query = new URLSearchParams({ top: '200', ...(continuationToken ? { continuationToken } : {}) });
    const page = await apiJson<Page>(`${api}/verifications?${query}`, token);
    for (const item of page.value) known.set(item.verificationId, item);
    if (known.has(id) || !page.continuationToken) break;
    continuationToken = page.continuationToken;
  }
  return known.get(id);
}

export async function showVerification(api: string, token: string, id: string): Promise<void> {
  const target = $('verification-body');
  target.replaceChildren(h('p', { textContent: 'Loading…' }));
  const item = known.get(id) ?? await lookUp(api, token, id);
  if (!item) {
    target.replaceChildren(h('h2', {}, 'Verification ', h('code', { textContent: id })),
      h('p', { className: 'problem', role: 'alert', textContent: 'No such verification (cancelled, erased, or older than the list reaches).' }));
    return;
  }
  const reissuable = item.linkState !== 'used';
  const summary = (v: Item) => facts([
    ['Status', v.status],
    ['Link', linkStateText[v.linkState] ?? v.linkState],
    ['Origin', v.origin],
    ['Client reference', v.clientReferenceId ?? '–'],
    ['Created', time(v.createdDateTime)],
    ['Link expires', time(v.expiresDateTime)],
    ['Session', sessionLink(v.sessionId)],
  ]);
  const card = h('article', {}, h('h3', { textContent: 'Verification' }), summary(item));
  target.replaceChildren(
    h('h2', {}, 'Verification ', h('code', { textContent: item.verificationId })),
    h('section', { className: 'cards' },
      card,
      h('article', { className: 'link-card' }, h('h3', { textContent: 'Link' }),
        reissuable
          ? reissueForm(api, token, item, (updated) => card.lastElementChild!.replaceWith(summary(updated)))
          : h('p', { className: 'note', textContent: 'The link was used: the person started the check. A new link cannot be issued.' })),
    ),
  );
}

/** Issue a new link, in two steps: the button asks first (the current link stops working), then shows URL and QR code. */
function reissueForm(api: string, token: string, item: Item, issued: (updated: Item) => void): HTMLElement {
  const start = h('button', { type: 'button', textContent: 'Issue a new link…' });
  const confirm = h('button', { type: 'button', className: 'primary', textContent: 'Yes, issue a new link' });
  const cancel = h('button', { type: 'button', textContent: 'Cancel' });
  const confirmation = h('div', { className: 'confirm', role: 'group', ariaLabel: 'Confirm new link', hidden: true },
    h('p', { textContent: 'The link sent before stops working at once. Give the person the new one (or let them scan its QR code).' }),
    confirm, ' ', cancel);
  const result = h('div', { className: 'new-link' });
  start.addEventListener('click', () => { confirmation.hidden = false; start.hidden = true; confirm.focus(); });
  cancel.addEventListener('click', () => { confirmation.hidden = true; start.hidden = false; start.focus(); });
  confirm.addEventListener('click', async () => {
    confirm.disabled = true;
    try {
      const link = await apiJson<Schemas['VerificationLink']>(`${api}/verifications/${item.verificationId}/link`, token, { method: 'POST' });
      confirmation.hidden = true;
      start.hidden = false;
      const updated: Item = { ...item, linkState: 'sent', expiresDateTime: link.expiresDateTime };
      known.set(item.verificationId, updated);
      issued(updated);
      const url = h('input', { type: 'text', readOnly: true, value: link.url, ariaLabel: 'New link', className: 'link-url', spellcheck: false });
      url.addEventListener('focus', () => url.select());
      result.replaceChildren(
        h('p', { className: 'done', role: 'status', textContent: `A new link was issued; it works once, until ${time(link.expiresDateTime)}.` }),
        url,
        h('figure', {}, qrCodeSvg(link.url, 'QR code of the new link'),
          h('figcaption', { className: 'note', textContent: 'Scan with a phone camera to open the check there.' })),
      );
    } catch (error) {
      const text = error instanceof ApiError && error.status === 409
        ? `${error.message} (the person may have used the link meanwhile: reload the list).`
        : (error as Error).message;
      say(result, 'alert', text);
    } finally {
      confirm.disabled = false;
    }
  });
  return h('div', {}, start, confirmation, result);
}
