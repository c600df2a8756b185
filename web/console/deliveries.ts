// Failed webhook deliveries: events whose delivery gave up after the retry window (dead letters), oldest first, each
// with its attempt log on request and a Redeliver button (same event id, a fresh retry window).
import { ApiError, apiJson, type Schemas } from '../shared/api.js';
import { $, h, say, table, time } from './dom.js';

export async function showDeliveries(api: string, token: string): Promise<void> {
  const target = $('deliveries-body');
  const message = $('deliveries-message');
  message.replaceChildren();
  target.replaceChildren(h('p', { textContent: 'Loading…' }));
  const failures: Schemas['FailedDelivery'][] = [];
  let continuationToken: string | undefined;
  do {
    const query = new URLSearchParams({ top: '200', ...(continuationToken ? { continuationToken } : {}) });
    const page = await apiJson<Schemas['FailedDeliveryPage']>(`${api}/webhook-failures?${query}`, token);
    failures.push(...page.value);
    continuationToken = page.continuationToken;
  } while (continuationToken && failures.length < 1000);

  const rows = failures.flatMap((f) => {
    const attemptsRow = h('tr', { className: 'attempts', hidden: true }, h('td', { colSpan: 7 }));
    const show = h('button', { type: 'button', textContent: 'Show attempts', ariaExpanded: 'false' });
    const redeliver = h('button', { type: 'button', className: 'primary', textContent: 'Redeliver' });
    const row = h('tr', {},
      h('td', {}, h('code', { textContent: f.eventId })),
      h('td', { textContent: f.type }),
      h('td', {}, f.sessionId ? h('a', { href: `#/sessions/${f.sessionId}`, textContent: f.sessionId, className: 'id' }) : '–'),
      h('td', { textContent: String(f.attempts) }),
      h('td', { textContent: f.lastError === 'HttpStatus' && f.lastStatusCode ? `HTTP ${f.lastStatusCode}` : (f.lastError ?? '–') }),
      h('td', { textContent: time(f.deadLetteredDateTime) }),
      h('td', { className: 'actions' }, show, ' ', redeliver),
    );
    show.addEventListener('click', async () => {
      const open = attemptsRow.hidden;
      attemptsRow.hidden = !open;
      show.ariaExpanded = String(open);
      show.textContent = open ? 'Hide attempts' : 'Show attempts';
      if (!open) return;
      try {
        const log = await apiJson<Schemas['DeliveryAttemptList']>(`${api}/webhook-events/${f.eventId}/attempts`, token);
        attemptsRow.firstElementChild!.replaceChildren(table(`Delivery attempts of ${f.eventId}`, ['Try', 'When', 'Answer', 'Took', 'Result'], log.value.map((a) => h('tr', {},
          h('td', { textContent: String(a.attempt) }),
          h('td', { textContent: time(a.attemptedDateTime) }),
          h('td', { textContent: a.statusCode ? `HTTP ${a.statusCode}` : (a.error ?? '–') }),
          h('td', { textContent: `${a.durationMs} ms` }),
          h('td', { textContent: a.result }),
        )), 'No attempts logged.'));
      } catch (error) {
        say(attemptsRow.firstElementChild as HTMLElement, 'alert', (error as Error).message);
      }
    });
    redeliver.addEventListener('click', async () => {
      redeliver.disabled = true;
      try {
        await apiJson(`${api}/webhook-events/${f.eventId}/redeliver`, token, { method: 'POST' });
        row.remove();
        attemptsRow.remove();
        say(message, 'status', `Event ${f.eventId} is queued for delivery again (same event id, a fresh retry window). If it fails again it comes back here.`);
      } catch (error) {
        if (error instanceof ApiError && error.code === 'DeliveryNotFound') {
          row.remove();
          attemptsRow.remove();
          say(message, 'status', `Event ${f.eventId} was already redelivered.`);
        } else {
          say(message, 'alert', (error as Error).message);
          redeliver.disabled = false;
        }
      }
    });
    return [row, attemptsRow];
  });
  target.replaceChildren(table('Failed deliveries', ['Event', 'Type', 'Session', 'Tries', 'Last error', 'Gave up', ''], rows,
    'No failed deliveries: every event reached the receiver.'));
}
