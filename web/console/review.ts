// The review queue: sessions the policy sent to a person (outcome review), oldest first, and the form that settles
// one (pass or fail, with a reason). The automated decision stays as it was; the device sees the reviewer's outcome.
import { ApiError, apiJson, type Schemas } from '../shared/api.js';
import { $, h, jsonInit, outcomeBadge, say, table, time } from './dom.js';

type QueuePage = Schemas['ReviewQueuePage'];

const PAGE_SIZE = 50;

/** The #/review view: one page at a time, with "Show more" while the API has more. */
export async function showReviewQueue(api: string, token: string): Promise<void> {
  const target = $('review-body');
  target.replaceChildren(h('p', { textContent: 'Loading…' }));
  const rows: HTMLTableRowElement[] = [];
  const more = h('button', { type: 'button', textContent: 'Show more', hidden: true });
  let continuationToken: string | undefined;
  const load = async () => {
    const query = new URLSearchParams({ top: String(PAGE_SIZE), ...(continuationToken ? { continuationToken } : {}) });
    const page = await apiJson<QueuePage>(`${api}/review-queue?${query}`, token);
    continuationToken = page.continuationToken;
    more.hidden = !continuationToken;
    rows.push(...page.value.map((s) => h('tr', {},
      h('td', { textContent: time(s.decision?.decidedDateTime ?? s.createdDateTime) }),
      h('td', {}, h('a', { href: `#/sessions/${s.id}`, textContent: s.id, className: 'id' })),
      h('td', { textContent: s.decision?.reasons.join(', ') || '–' }),
      h('td', { textContent: s.decision?.livenessDecision ?? '–' }),
      h('td', { textContent: s.decision?.matchConfidence === undefined ? '–' : s.decision.matchConfidence.toFixed(4) }),
      h('td', { textContent: s.deviceCorrelationId ?? '–' }),
    )));
    target.replaceChildren(
      table('Review queue', ['Waiting since', 'Session id', 'Why', 'Liveness', 'Match confidence', 'Device'], rows, 'No sessions are waiting for review.'),
      more,
    );
  };
  more.addEventListener('click', () => { void load(); });
  await load();
}

/** The review backlog on the dashboard: how many wait (up to 1,000 counted) and the oldest few. */
export async function reviewBacklog(api: string, token: string): Promise<{ count: string; oldest: Schemas['LivenessSession'][] }> {
  const page = await apiJson<QueuePage>(`${api}/review-queue?top=1000`, token);
  return { count: `${page.value.length}${page.continuationToken ? '+' : ''}`, oldest: page.value.slice(0, 10) };
}

/** The settled review, shown next to the automated decision. */
export function reviewFacts(review: Schemas['ReviewDecision']): Array<[string, Node | string]> {
  return [
    ['Outcome', outcomeBadge(review.outcome)],
    ['Reason', review.reason],
    ['Reviewer', review.reviewer],
    ['Settled', time(review.reviewedDateTime)],
  ];
}

/** The settle form for a session awaiting review; `settled` runs after the API accepted the decision. */
export function settleForm(api: string, token: string, sessionId: string, settled: () => void): HTMLFormElement {
  const message = h('div');
  const reason = h('textarea', { id: 'review-reason', rows: 3, maxLength: 500, required: true });
  const choice = (value: string, label: string) => h('label', { className: 'radio' }, h('input', { type: 'radio', name: 'review-outcome', value, required: true }), ` ${label}`);
  const submit = h('button', { type: 'submit', className: 'primary', textContent: 'Settle review' });
  const form = h('form', { className: 'settle' },
    h('p', { className: 'note', textContent: 'The policy could not decide this one. Compare the images, then settle it: the device sees your outcome.' }),
    h('fieldset', { className: 'inline' }, h('legend', { textContent: 'Decision' }), choice('pass', 'Pass: the same, live person'), choice('fail', 'Fail')),
    h('label', { htmlFor: 'review-reason', textContent: 'Reason (kept with the decision, not shown to the person)' }),
    reason,
    submit,
    message,
  );
  form.addEventListener('submit', async (event) => {
    event.preventDefault();
    const outcome = (form.querySelector('input[name=review-outcome]:checked') as HTMLInputElement | null)?.value;
    if (!outcome) { say(message, 'alert', 'Choose Pass or Fail.'); return; }
    if (!reason.value.trim()) { say(message, 'alert', 'Give a reason: it is kept with the decision.'); return; }
    submit.disabled = true;
    try {
      await apiJson(`${api}/liveness-sessions/${sessionId}/review`, token, jsonInit('POST', { outcome, reason: reason.value.trim() }));
      settled();
    } catch (error) {
      say(message, 'alert', error instanceof ApiError && error.status === 409
        ? 'This session is no longer waiting for review (someone settled it). Reload to see the decision.'
        : (error as Error).message);
      submit.disabled = false;
    }
  });
  return form;
}
