// The operator console: back office over /api/backoffice with a bearer token from the identity provider (Entra ID in
// Azure, with the LivenessSessions.Manage app role; the dev issuer locally). A dashboard, the sessions list (newest
// first, status filter, paging), a session's detail with its decision, review, attempts, images and evidence, the
// review queue, verifications (relying parties' links: list, a new link with its QR code), subjects (export, reference,
// erasure) and failed webhook deliveries. Images are fetched through the
// API with the token and shown from memory: there are no public blob URLs.
import { ApiError, apiJson, type Schemas } from '../shared/api.js';
import { startPage } from '../shared/bootstrap.js';
import { legend, stackedBars } from './charts.js';
import { showDeliveries } from './deliveries.js';
import { $, facts, h, loadImage, outcomeBadge, time } from './dom.js';
import { reviewBacklog, reviewFacts, settleForm, showReviewQueue } from './review.js';
import { showSubject, subjectSearch } from './subjects.js';
import { showVerification, VerificationsList } from './verifications.js';

type Page = Schemas['LivenessSessionPage'];
type AuditEntry = Schemas['AuditEntry'];
type Session = Schemas['LivenessSession'];

const STATUSES = ['NotStarted', 'Started', 'ResultAvailable', 'Failed', 'Expired'];
const OUTCOME_COLORS: Record<string, string> = { pass: '#2e7d32', fail: '#c62828', review: '#ef6c00', retry: '#6a1b9a', none: '#90a4ae' };
const PAGE_SIZE = 20;

const problem = $('problem');
const signedOutView = $('signed-out');
const app = $('app');

function showProblem(message: string | undefined): void {
  problem.textContent = message ?? '';
  problem.hidden = !message;
}

async function main(): Promise<void> {
  const { config, signedIn: session } = await startPage('console', {
    signInButton: $('sign-in'), signOutButton: $('sign-out'), showProblem, onSignOut: () => { location.hash = ''; },
  });
  const api = `${config.apiBase}/backoffice`;
  if (!session) { signedOutView.hidden = false; return; }
  const token = session.accessToken;
  app.hidden = false;
  $('who').textContent = session.name;

  const failed = (error: unknown) => {
    if (error instanceof ApiError && error.status === 403) showProblem('Your account does not have the back-office role (LivenessSessions.Manage).');
    else if (error instanceof ApiError && error.status === 401) showProblem('Your sign-in has expired. Sign in again.');
    else showProblem((error as Error).message);
  };

  const views = ['overview', 'detail', 'verifications', 'verification', 'review', 'subjects', 'deliveries'] as const;
  const show = (view: typeof views[number], navKey = view) => {
    for (const v of views) $(v).hidden = v !== view;
    for (const link of document.querySelectorAll<HTMLAnchorElement>('nav a')) {
      if (link.dataset.view === navKey) link.setAttribute('aria-current', 'page');
      else link.removeAttribute('aria-current');
    }
  };
  const route = () => {
    showProblem(undefined);
    const hash = location.hash;
    let match: RegExpExecArray | null;
    if ((match = /^#\/sessions\/([0-9a-f-]{36})$/i.exec(hash))) {
      show('detail', 'overview');
      void showDetail(api, token, match[1]!).catch(failed);
    } else if (hash === '#/verifications') {
      show('verifications');
      void verificationsList.load().catch(failed);
    } else if ((match = /^#\/verifications\/([0-9a-f-]{36})$/i.exec(hash))) {
      show('verification', 'verifications');
      void showVerification(api, token, match[1]!).catch(failed);
    } else if (hash === '#/review') {
      show('review');
      void showReviewQueue(api, token).catch(failed);
    } else if ((match = /^#\/subjects(?:\/([0-9a-f]{64}))?$/.exec(hash))) {
      show('subjects');
      $('subject-body').replaceChildren();
      if (match[1]) void showSubject(api, token, match[1]).catch(failed);
      else $('subject-input').focus();
    } else if (hash === '#/deliveries') {
      show('deliveries');
      void showDeliveries(api, token).catch(failed);
    } else {
      show('overview');
      void Promise.all([showDashboard(api, token), sessionsList.load()]).catch(failed);
    }
  };
  const sessionsList = new SessionsList(api, token, failed);
  const verificationsList = new VerificationsList(api, token, failed);
  subjectSearch(api, token, failed);
  window.addEventListener('hashchange', route);
  route();
}

/** The sessions table: newest first, a status filter, and paging with the API's continuation tokens. */
class SessionsList {
  private tokens: Array<string | undefined> = [undefined];
  private page = 0;
  private readonly filter = $<HTMLSelectElement>('status-filter');

  constructor(private readonly api: string, private readonly token: string, failed: (e: unknown) => void) {
    for (const status of STATUSES) this.filter.append(h('option', { value: status, textContent: status }));
    this.filter.addEventListener('change', () => { this.tokens = [undefined]; this.page = 0; void this.load().catch(failed); });
    $('next-page').addEventListener('click', () => { this.page++; void this.load().catch(failed); });
    $('previous-page').addEventListener('click', () => { this.page = Math.max(0, this.page - 1); void this.load().catch(failed); });
  }

  async load(): Promise<void> {
    const query = new URLSearchParams({ top: String(PAGE_SIZE) });
    if (this.filter.value) query.set('status', this.filter.value);
    // Never show an earlier load's rows as current (e.g. sessions erased since): clear first.
    $('sessions-body').replaceChildren(h('tr', {}, h('td', { colSpan: 6, textContent: 'Loading…' })));
    const continuation = this.tokens[this.page];
    if (continuation) query.set('continuationToken', continuation);
    const result = await apiJson<Page>(`${this.api}/liveness-sessions?${query}`, this.token);
    this.tokens[this.page + 1] = result.continuationToken;
    ($('next-page') as HTMLButtonElement).disabled = !result.continuationToken;
    ($('previous-page') as HTMLButtonElement).disabled = this.page === 0;
    $('page-number').textContent = `Page ${this.page + 1}`;
    const rows = result.value.map((item) => h('tr', {},
      h('td', {}, time(item.createdDateTime)),
      h('td', {}, h('a', { href: `#/sessions/${item.id}`, textContent: item.id, className: 'id' })),
      h('td', {}, item.status),
      h('td', {}, outcomeBadge(item.outcome)),
      h('td', {}, originCell(item.origin, item.verificationId)),
      h('td', {}, item.deviceCorrelationId ?? '–'),
    ));
    $('sessions-body').replaceChildren(...(rows.length ? rows : [h('tr', {}, h('td', { colSpan: 6, textContent: 'No sessions.' }))]));
  }
}

/** Where a session came from: the device (its own sign-in) or a relying party's verification link (linked). */
function originCell(origin: string | undefined, verificationId: string | undefined): Node | string {
  if (origin !== 'link' || !verificationId) return origin ?? 'device';
  return h('span', {}, 'link ', h('a', { href: `#/verifications/${verificationId}`, textContent: `(verification ${verificationId.slice(0, 8)}…)`, title: verificationId }));
}

/** The newest sessions (up to 1,000, the last 24 hours) as three charts and a backlog. */
async function showDashboard(api: string, token: string): Promise<void> {
  const since = Date.now() - 24 * 3600_000;
  const items: Schemas['LivenessSessionListItem'][] = [];
  let continuationToken: string | undefined;
  do {
    const query = new URLSearchParams({ top: '200', ...(continuationToken ? { continuationToken } : {}) });
    const page = await apiJson<Page>(`${api}/liveness-sessions?${query}`, token);
    items.push(...page.value);
    continuationToken = page.continuationToken;
  } while (continuationToken && items.length < 1000 && Date.parse(items[items.length - 1]!.createdDateTime) > since);
  const recent = items.filter((i) => Date.parse(i.createdDateTime) > since);

  // Outcomes per hour, the last 24 hours (local time), stacked by outcome.
  const hourStart = (ms: number) => Math.floor(ms / 3600_000) * 3600_000;
  const first = hourStart(Date.now()) - 23 * 3600_000;
  const hours = Array.from({ length: 24 }, (_, i) => first + i * 3600_000);
  const outcomes = ['pass', 'fail', 'review', 'retry', 'none'];
  const series = outcomes.map((name) => ({
    name: name === 'none' ? 'no result yet' : name, color: OUTCOME_COLORS[name]!,
    values: hours.map((hour) => recent.filter((i) => hourStart(Date.parse(i.createdDateTime)) === hour && (i.outcome ?? 'none') === name).length),
  }));
  const hourLabels = hours.map((ms) => `${String(new Date(ms).getHours()).padStart(2, '0')}h`);
  $('chart-outcomes').replaceChildren(stackedBars('Sessions started per hour, by outcome (last 24 hours)', hourLabels, series, 3), legend(series));
  const counts = Object.fromEntries(outcomes.map((o) => [o, recent.filter((i) => (i.outcome ?? 'none') === o).length]));
  $('summary-outcomes').textContent = `${recent.length} sessions in the last 24 hours: ${counts.pass} passed, ${counts.fail} failed, `
    + `${counts.review} in review, ${counts.retry} to retry, ${counts.none} without a result.`;

  // Time to result: from the device's completion to the collected result.
  const durations = recent
    .filter((i) => i.completionRequestedDateTime && i.resultCollectedDateTime)
    .map((i) => (Date.parse(i.resultCollectedDateTime!) - Date.parse(i.completionRequestedDateTime!)) / 1000)
    .sort((a, b) => a - b);
  const bins = [[0, 1], [1, 2], [2, 5], [5, 10], [10, 30], [30, 60], [60, Infinity]] as const;
  const binLabels = bins.map(([lo, hi]) => (hi === Infinity ? `≥${lo}s` : `${lo}–${hi}s`));
  const binSeries = [{ name: 'sessions', color: '#1565c0', values: bins.map(([lo, hi]) => durations.filter((d) => d >= lo && d < hi).length) }];
  $('chart-time').replaceChildren(stackedBars('Time from completion to result (last 24 hours)', binLabels, binSeries));
  const quantile = (q: number) => durations[Math.min(durations.length - 1, Math.floor(q * durations.length))]!;
  $('summary-time').textContent = durations.length
    ? `${durations.length} result${durations.length === 1 ? '' : 's'}: median ${quantile(0.5).toFixed(1)} s, 95th percentile ${quantile(0.95).toFixed(1)} s.`
    : 'No results in the last 24 hours.';

  // Review backlog: the review queue (every session waiting for a person, oldest first), not just the loaded page.
  const backlog = await reviewBacklog(api, token);
  $('backlog-count').textContent = backlog.count;
  $('backlog-list').replaceChildren(...backlog.oldest.map((i) => h('li', {},
    h('a', { href: `#/sessions/${i.id}`, textContent: i.id, className: 'id' }), ` ${time(i.createdDateTime)}`)));
}

async function showDetail(api: string, token: string, id: string): Promise<void> {
  const target = $('detail-body');
  target.replaceChildren(h('p', { textContent: 'Loading…' }));
  const [session, audit] = await Promise.all([
    apiJson<Session>(`${api}/liveness-sessions/${id}`, token),
    apiJson<{ value: AuditEntry[] }>(`${api}/liveness-sessions/${id}/audit-entries`, token),
  ]);
  const d = session.decision;
  // The person's decision sits next to the automated one; a session still waiting gets the settle form.
  const reviewCard = session.review
    ? [h('article', { className: 'review' }, h('h3', { textContent: 'Review (what the device sees)' }), facts(reviewFacts(session.review)))]
    : session.reviewRequired
      ? [h('article', { className: 'review' }, h('h3', { textContent: 'Review' }),
        settleForm(api, token, id, () => { void showDetail(api, token, id); }))]
      : [];
  const verifyImage = h('img', { alt: 'Verify image (reference photo)', className: 'evidence' });
  const sessionLink = (other: string) => h('a', { href: `#/sessions/${other}`, textContent: other });
  // Face abuse monitoring: the flag, and every other flagged session that is ours (either side of the link).
  const abuse = d?.abuse;
  const linked = [...new Set([...(abuse?.otherFlaggedSessions ?? []).flatMap((o) => (o.sessionId ? [o.sessionId] : [])), ...(session.abuseLinks ?? [])])];
  const abuseCard = abuse || linked.length
    ? [h('article', { className: 'abuse', ariaLabel: 'Abuse monitoring' }, h('h3', { textContent: 'Abuse monitoring' }), facts([
      ['Flag', abuse ? `AbuseDetected on attempt ${abuse.attemptIds.join(', ')}: the same face under another user's correlation id` : 'named by another flagged session'],
      ['Linked sessions', linked.length ? h('ul', {}, ...linked.map((other) => h('li', {}, sessionLink(other)))) : 'none of ours'],
      ['Other flagged sessions at Face', abuse ? String(abuse.otherFlaggedSessions.length) : '–'],
    ]))]
    : [];
  target.replaceChildren(
    h('h2', {}, 'Session ', h('code', { textContent: session.id })),
    h('section', { className: 'cards' },
      h('article', {}, h('h3', { textContent: session.review ? 'Automated decision' : 'Decision' }), d ? facts([
        ['Outcome', outcomeBadge(d.outcome)],
        ['Reasons', d.reasons.length ? d.reasons.join(', ') : 'none'],
        ['Liveness', d.livenessDecision ?? '–'],
        ['Match confidence', d.matchConfidence === undefined ? '–' : d.matchConfidence.toFixed(4)],
        ['Policy version', d.policyVersion],
        ['Model version', d.modelVersion ?? '–'],
        ['Decided', time(d.decidedDateTime)],
        ['Review required', session.reviewRequired ? 'yes' : session.review ? 'settled' : 'no'],
      ]) : h('p', { textContent: 'No decision yet.' })),
      ...reviewCard,
      ...abuseCard,
      h('article', {}, h('h3', { textContent: 'Session' }), facts([
        ['Status', session.status + (session.failureReason ? ` (${session.failureReason})` : '')],
        ['Created', time(session.createdDateTime)],
        ['Completion requested', time(session.completionRequestedDateTime)],
        ['Result collected', time(session.resultCollectedDateTime)],
        ['Device', session.deviceCorrelationId ?? '–'],
        ['Origin', session.origin ?? 'device'],
        ['Verification', session.verificationId ? h('a', { href: `#/verifications/${session.verificationId}`, textContent: session.verificationId, className: 'id' }) : '–'],
        ['Mode', session.livenessOperationMode],
        ['Face session', h('code', { textContent: session.faceSessionId })],
      ])),
      h('article', {}, h('h3', { textContent: 'Evidence binding' }), d ? facts([
        ['Digest', h('code', { className: 'hash', textContent: d.digest ?? '–' })],
        ['Digest from the device', d.digestMatches === undefined ? (session.clientDigest ? 'not compared' : 'none reported')
          : d.digestMatches ? 'matches Face\'s' : 'DIFFERS from Face\'s (DigestMismatch)'],
        ['Attempt', String(d.attemptId)],
        ['Verify image hash matches', d.verifyImageHashMatches ? 'yes: Face compared against the stored verify image' : 'NO'],
        ['Reference', session.reference ? `enrolled reference ${session.reference.referenceId}` : 'brought by the device'],
        ['Consent version', session.consentVersion ?? '–'],
      ]) : h('p', { textContent: 'No evidence yet.' })),
      h('article', {}, h('h3', { textContent: 'Verify image' }), verifyImage,
        h('p', { className: 'note', textContent: `Quality for recognition: ${session.verifyImage.qualityForRecognition ?? '–'}` })),
    ),
    h('h3', { textContent: 'Attempts' }),
    h('table', {},
      h('thead', {}, h('tr', {}, ...['Attempt', 'Status', 'Liveness', 'Match', 'Collected', 'Client IP', 'Abuse', 'Digest', 'Verify image hash', 'Session image'].map((t) => h('th', { textContent: t })))),
      h('tbody', {}, ...(audit.value.length ? audit.value.map((entry) => {
        const body = entry.response.body;
        const image = h('img', { alt: `Session image of attempt ${entry.id}`, className: 'evidence small' });
        if (entry.sessionImageId) void loadImage(`${api}/liveness-sessions/${id}/session-images/${entry.id}`, token, image);
        return h('tr', {},
          h('td', { textContent: String(entry.id) }),
          h('td', { textContent: entry.attemptStatus + (body.error ? ` (${body.error.code})` : '') }),
          h('td', { textContent: body.livenessDecision ?? '–' }),
          h('td', { textContent: body.verifyResult ? `${body.verifyResult.matchConfidence.toFixed(4)}${body.verifyResult.isIdentical ? ' (identical)' : ''}` : '–' }),
          h('td', { textContent: time(entry.collectedDateTime) }),
          h('td', { textContent: entry.clientInformation?.map((c) => c.ip).join(', ') || '–' }),
          h('td', { textContent: entry.abuseMonitoringResult ? (entry.abuseMonitoringResult.isAbuseDetected ? 'flagged' : 'clear') : '–' }),
          h('td', {}, h('code', { className: 'hash', textContent: entry.digest ?? '–' })),
          h('td', {}, h('code', { className: 'hash', textContent: entry.verifyImageHash ?? '–' })),
          h('td', {}, entry.sessionImageId ? image : '–'),
        );
      }) : [h('tr', {}, h('td', { colSpan: 10, textContent: 'No attempts collected yet.' }))])),
    ),
  );
  await loadImage(`${api}/liveness-sessions/${id}/verify-image`, token, verifyImage);
}

main().catch((error: unknown) => showProblem(`The console could not start: ${(error as Error).message}`));
