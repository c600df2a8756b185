// DeliveryLog over Table storage. Two tables (names carry the configured prefix):
//   LivenessWebhookAttempts     PK = event id, RK = attempt time (ISO) + "|" + attempt number: one event's tries are
//                               one partition, oldest first by key order; no payload (subject ids stay out of logs)
//   LivenessWebhookDeadLetters  PK = "deadletter", RK = event id: the events whose delivery gave up, with the event
//                               (to redeliver it); event ids are UUIDv7, so the partition lists oldest first
import { odata, type TableClient } from '@azure/data-tables';
import type { DeadLetter, DeliveryAttempt, DeliveryLog, Page } from '../../core/ports.js';
import { checkContinuationToken, guardStorage, ignore404, onceUntilFailure, orAbsent, partitionValues, type StorageClients } from './clients.js';
import { tableNames } from './table-names.js';

const DEAD_LETTER_PARTITION = 'deadletter';
const guard = <T>(work: () => Promise<T>) => guardStorage('Table storage request (webhook deliveries)', work);

interface DeadLetterEntity { eventJson: string; attempts: number; firstAttemptDateTime: string; deadLetteredDateTime: string; lastStatusCode?: number; lastError?: string }

export class TableDeliveryLog implements DeliveryLog {
  private readonly attempts: TableClient;
  private readonly deadLetters: TableClient;
  private readonly ensure: () => Promise<unknown>;

  constructor(clients: StorageClients, prefix: string) {
    const names = tableNames(prefix);
    this.attempts = clients.table(names.webhookAttempts);
    this.deadLetters = clients.table(names.webhookDeadLetters);
    this.ensure = onceUntilFailure(() => Promise.all([this.attempts.createTable(), this.deadLetters.createTable()]));
  }

  async recordAttempt(a: DeliveryAttempt): Promise<void> {
    await guard(async () => {
      await this.ensure();
      await this.attempts.upsertEntity({
        partitionKey: a.eventId,
        rowKey: `${a.attemptedDateTime}|${String(a.attempt).padStart(4, '0')}`,
        attemptJson: JSON.stringify(a),
      }, 'Replace');
    });
  }

  async listAttempts(eventId: string): Promise<DeliveryAttempt[]> {
    return guard(async () => {
      await this.ensure();
      return partitionValues<DeliveryAttempt>(this.attempts, eventId, 'attemptJson'); // key order: oldest first
    });
  }

  async putDeadLetter(d: DeadLetter): Promise<void> {
    await guard(async () => {
      await this.ensure();
      const entity: DeadLetterEntity & { partitionKey: string; rowKey: string } = {
        partitionKey: DEAD_LETTER_PARTITION,
        rowKey: d.event.id,
        eventJson: JSON.stringify(d.event),
        attempts: d.attempts,
        firstAttemptDateTime: d.firstAttemptDateTime,
        deadLetteredDateTime: d.deadLetteredDateTime,
        ...(d.lastStatusCode !== undefined ? { lastStatusCode: d.lastStatusCode } : {}),
        ...(d.lastError ? { lastError: d.lastError } : {}),
      };
      await this.deadLetters.upsertEntity(entity, 'Replace');
    });
  }

  async getDeadLetter(eventId: string): Promise<DeadLetter | undefined> {
    return guard(async () => {
      await this.ensure();
      const entity = await orAbsent(this.deadLetters.getEntity<DeadLetterEntity>(DEAD_LETTER_PARTITION, eventId));
      return entity && fromEntity(entity);
    });
  }

  async deleteDeadLetter(eventId: string): Promise<void> {
    await guard(async () => {
      await this.ensure();
      await ignore404(this.deadLetters.deleteEntity(DEAD_LETTER_PARTITION, eventId));
    });
  }

  async listDeadLetters(top: number, continuationToken?: string): Promise<Page<DeadLetter>> {
    return guard(async () => {
      await this.ensure();
      if (continuationToken !== undefined) checkContinuationToken(continuationToken);
      // Azure may return fewer rows than asked (even none, with a token): read on, asking each time for what is
      // missing, so that no row is read and then dropped from the page.
      const items: DeadLetter[] = [];
      let next = continuationToken;
      do {
        const pages = this.deadLetters
          .listEntities<DeadLetterEntity>({ queryOptions: { filter: odata`PartitionKey eq ${DEAD_LETTER_PARTITION}` } })
          .byPage({ maxPageSize: top - items.length, continuationToken: next });
        const page = (await pages.next()).value as (DeadLetterEntity[] & { continuationToken?: string }) | undefined;
        for (const e of page ?? []) items.push(fromEntity(e));
        next = page?.continuationToken;
      } while (next && items.length < top);
      return { items, ...(next ? { continuationToken: next } : {}) };
    });
  }
}

function fromEntity(e: DeadLetterEntity): DeadLetter {
  return {
    event: JSON.parse(e.eventJson),
    attempts: e.attempts,
    firstAttemptDateTime: e.firstAttemptDateTime,
    deadLetteredDateTime: e.deadLetteredDateTime,
    ...(e.lastStatusCode !== undefined ? { lastStatusCode: e.lastStatusCode } : {}),
    ...(e.lastError ? { lastError: e.lastError as DeadLetter['lastError'] } : {}),
  };
}
