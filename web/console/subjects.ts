// A subject (a person) in the back office: find them by the id the relying party knows (POST subject-keys turns it
// into the subject key; the raw id never goes in a URL), see everything held about them (the export), enrol or
// remove their reference photo, and erase everything with a confirm step that ends in the deletion receipt.
import { ApiError, apiFetch, apiJson, type Schemas } from '../shared/api.js';
import { $, facts, h, jsonInit, loadImage, outcomeBadge, say, table, time } from './dom.js';

type Receipt = Schemas['DeletionReceipt'];
type SubjectExport = Schemas['SubjectExport'];

/** The #/subjects view: a form that finds a subject's key, then opens #/subjects/{key}. */
export function subjectSearch(api: string, token: string, failed: (e: unknown) => void): void {
  const form = $<HTMLFormElement>('subject-form');
  const input = $<HTMLInputElement>('subject-input');
  form.addEventListener('submit', async (event) => {
    event.preventDefault();
    if (!input.value.trim()) return;
    try {
      const { subjectKey } = await apiJson<Schemas['SubjectKey']>(`${api}/subject-keys`, token, jsonInit('POST', { subject: input.value.trim() }));
      location.hash = `#/subjects/${subjectKey}`;
    } catch (error) {
      failed(error);
    }
  });
}

/** The export's link of an image: path-absolute on the route the export was read from (here /api/backoffice/…). */
function imageUrl(api: string, href: string): string {
  return new URL(href, api).href;
}

export async function showSubject(api: string, token: string, subjectKey: string, receipt?: Receipt): Promise<void> {
  const target = $('subject-body');
  target.replaceChildren(h('p', { textContent: 'Loading…' }));
  let data: SubjectExport | undefined;
  try {
    data = await apiJson<SubjectExport>(`${api}/subjects/${subjectKey}`, token);
  } catch (error) {
    if (!(error instanceof ApiError && error.code === 'SubjectNotFound')) throw error;
  }
  const reload = (r?: Receipt) => { void showSubject(api, token, subjectKey, r).catch((e: Error) => say(target, 'alert', e.message)); };
  const sessions = data?.sessions ?? [];
  const heldAnything = !!data && (!!data.subject || !!data.reference || data.consents.length > 0 || sessions.length > 0);

  target.replaceChildren(
    h('h2', {}, 'Subject ', h('code', { className: 'hash', textContent: subjectKey })),
    ...(receipt ? [receiptView(receipt)] : []),
    heldAnything ? h('p', { className: 'note', textContent: `Everything the app holds about this person, exported ${time(new Date().toISOString())}.` })
      : h('p', { className: 'empty', textContent: `The app holds nothing about this person${data?.deletionReceipts.length ? ' (only the deletion receipts below, as evidence of the erasure)' : ''}.` }),
    h('section', { className: 'cards' },
      referenceCard(api, token, subjectKey, data?.reference, reload),
      h('article', {}, h('h3', { textContent: 'Record and consent' }), facts([
        ['First seen', time(data?.subject?.createdDateTime)],
        ['Last seen', time(data?.subject?.lastSeenDateTime)],
        ['Consents', data?.consents.length ? data.consents.map((c) => `version ${c.version}, ${time(c.givenDateTime)}`).join('; ') : 'none'],
        ...(data?.subject?.erasing ? [['Erasure', 'in progress'] as [string, string]] : []),
      ])),
    ),
    h('h3', { textContent: 'Sessions' }),
    table('Subject sessions', ['Created', 'Session id', 'Status', 'Outcome', 'Review'], sessions.map(({ session: s }) => h('tr', {},
      h('td', { textContent: time(s.createdDateTime) }),
      h('td', {}, h('a', { href: `#/sessions/${s.id}`, textContent: s.id, className: 'id' })),
      h('td', { textContent: s.status }),
      h('td', {}, outcomeBadge(s.decision?.outcome)),
      h('td', {}, s.review ? outcomeBadge(s.review.outcome) : '–'),
    )), 'No sessions.'),
    ...(heldAnything ? [eraseSection(api, token, subjectKey, sessions.length, reload)] : []),
    ...(data?.deletionReceipts.length ? [h('h3', { textContent: 'Earlier erasures' }), table('Deletion receipts', ['Receipt', 'Completed', 'By', 'Deleted'],
      data.deletionReceipts.map((r) => h('tr', {},
        h('td', {}, h('code', { textContent: r.receiptId })), h('td', { textContent: time(r.completedDateTime) }),
        h('td', { textContent: r.requestedBy }), h('td', { textContent: counts(r.deleted) }))), 'None.')] : []),
  );
}

const counts = (deleted: Record<string, number>) => Object.entries(deleted).map(([kind, n]) => `${n} ${kind}`).join(', ') || 'nothing';

function receiptView(receipt: Receipt): HTMLElement {
  return h('article', { className: 'receipt', role: 'status' },
    h('h3', { textContent: 'Erased: deletion receipt' }),
    facts([
      ['Receipt', h('code', { textContent: receipt.receiptId })],
      ['Requested', time(receipt.requestedDateTime)],
      ['Completed', time(receipt.completedDateTime)],
      ['By', receipt.requestedBy],
      ['Deleted', counts(receipt.deleted)],
    ]),
    h('p', { className: 'note', textContent: 'The receipt keeps counts and the subject key only: no images, no raw subject id.' }),
  );
}

function referenceCard(api: string, token: string, subjectKey: string, reference: SubjectExport['reference'], reload: () => void): HTMLElement {
  const message = h('div');
  const file = h('input', { type: 'file', id: 'reference-file', accept: 'image/jpeg,image/png,image/webp,image/bmp,image/gif' });
  const enrol = h('button', { type: 'submit', textContent: reference ? 'Replace reference' : 'Enrol reference' });
  const form = h('form', {}, h('label', { htmlFor: 'reference-file', textContent: 'Reference photo ' }), file, ' ', enrol);
  form.addEventListener('submit', async (event) => {
    event.preventDefault();
    const image = file.files?.[0];
    if (!image) { say(message, 'alert', 'Choose a photo with exactly one clear face first.'); return; }
    enrol.disabled = true;
    const body = new FormData();
    body.append('referenceImage', image, image.name);
    try {
      await apiFetch(`${api}/subjects/${subjectKey}/reference`, token, { method: 'PUT', body });
      reload();
    } catch (error) {
      say(message, 'alert', error instanceof ApiError && error.code === 'InvalidImage' ? 'The photo needs exactly one clear face.' : (error as Error).message);
      enrol.disabled = false;
    }
  });
  const children: Array<Node | string> = [h('h3', { textContent: 'Reference' })];
  if (reference) {
    const img = h('img', { alt: 'Enrolled reference photo', className: 'evidence' });
    void loadImage(imageUrl(api, reference.image.href), token, img);
    const remove = h('button', { type: 'button', textContent: 'Remove reference' });
    remove.addEventListener('click', async () => {
      remove.disabled = true;
      try {
        await apiFetch(`${api}/subjects/${subjectKey}/reference`, token, { method: 'DELETE' });
        reload();
      } catch (error) {
        say(message, 'alert', (error as Error).message);
        remove.disabled = false;
      }
    });
    children.push(img, facts([
      ['Enrolled', time(reference.enrolledDateTime)],
      ['By', reference.enrolledBy],
      ['Source', reference.source === 'session' ? `session ${reference.sourceSessionId ?? ''}` : 'upload'],
      ['SHA-256', h('code', { className: 'hash', textContent: reference.sha256 })],
    ]), h('p', {}, remove));
  } else {
    children.push(h('p', { className: 'note', textContent: 'None enrolled: the person brings a photo to each check (where policy allows). Enrol one so checks compare with it.' }));
  }
  children.push(form, message);
  return h('article', {}, ...children);
}

/** Erase, in two steps: the button opens a confirmation that says what goes; only its own button erases. */
function eraseSection(api: string, token: string, subjectKey: string, sessionCount: number, reload: (r?: Receipt) => void): HTMLElement {
  const message = h('div');
  const start = h('button', { type: 'button', className: 'danger', textContent: 'Erase subject…' });
  const confirm = h('button', { type: 'button', className: 'danger', textContent: 'Yes, erase everything' });
  const cancel = h('button', { type: 'button', textContent: 'Cancel' });
  const confirmation = h('div', { className: 'confirm', role: 'group', ariaLabel: 'Confirm erasure', hidden: true },
    h('p', {}, h('strong', { textContent: 'Erase everything held about this person?' }),
      ` This deletes ${sessionCount} session${sessionCount === 1 ? '' : 's'} with their images, decisions and audit entries, `
      + 'any live Face sessions, the reference photo and the consent records. It cannot be undone. A deletion receipt (counts only) is kept as evidence.'),
    confirm, ' ', cancel);
  start.addEventListener('click', () => { confirmation.hidden = false; start.hidden = true; confirm.focus(); });
  cancel.addEventListener('click', () => { confirmation.hidden = true; start.hidden = false; start.focus(); });
  confirm.addEventListener('click', async () => {
    confirm.disabled = true;
    cancel.disabled = true;
    say(message, 'status', 'Erasing…');
    try {
      reload(await apiJson<Receipt>(`${api}/subjects/${subjectKey}`, token, { method: 'DELETE' }));
    } catch (error) {
      say(message, 'alert', `The erasure did not finish: ${(error as Error).message} Erase again to resume it.`);
      confirm.disabled = false;
      cancel.disabled = false;
    }
  });
  return h('section', { className: 'erase' }, h('h3', { textContent: 'Erase' }), start, confirmation, message);
}
