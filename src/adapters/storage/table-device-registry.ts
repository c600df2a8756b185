// DeviceRegistry over Table storage: `<prefix>LivenessAttestedDevices`, PK = SHA-256 (hex) of the device's
// request-signing certificate, RK = `device`. Written by /api/attestation/register, read by /verify, and (iOS) its
// App Attest counter advanced with the row's ETag, so two calls cannot both use one counter value. Expired rows are
// ignored by the core (and replaced by the next registration); they hold no personal data (a key hash, the app's
// client id, the platform, Apple's credential certificate and a counter).
import type { TableClient } from '@azure/data-tables';
import type { DeviceRegistry, RegisteredDevice } from '../../core/attestation.js';
import { tableNames } from './table-names.js';
import { guardStorage, isRestError, onceUntilFailure, type StorageClients } from './clients.js';

interface DeviceEntity {
  partitionKey: string; rowKey: string; clientId: string; platform: string; credCertPem?: string; signCount: number;
  registeredDateTime: string; expiresDateTime: string;
}

const ROW = 'device';

export class TableDeviceRegistry implements DeviceRegistry {
  private readonly table: TableClient;
  private readonly ensure: () => Promise<unknown>;

  constructor(clients: StorageClients, prefix: string) {
    this.table = clients.table(tableNames(prefix).attestedDevices);
    this.ensure = onceUntilFailure(() => this.table.createTable());
  }

  async get(thumbprint: string): Promise<(RegisteredDevice & { etag: string }) | undefined> {
    return guardStorage('Reading the attested device', async () => {
      await this.ensure();
      try {
        const e = await this.table.getEntity<DeviceEntity>(thumbprint, ROW);
        return {
          thumbprint, clientId: e.clientId, platform: e.platform as RegisteredDevice['platform'],
          ...(e.credCertPem ? { credCertPem: e.credCertPem } : {}),
          signCount: e.signCount, registeredDateTime: e.registeredDateTime, expiresDateTime: e.expiresDateTime, etag: e.etag,
        };
      } catch (error) {
        if (isRestError(error, 404)) return undefined;
        throw error;
      }
    });
  }

  async put(device: RegisteredDevice, etag: string | undefined): Promise<boolean> {
    const entity: DeviceEntity = {
      partitionKey: device.thumbprint, rowKey: ROW, clientId: device.clientId, platform: device.platform,
      ...(device.credCertPem ? { credCertPem: device.credCertPem } : {}),
      signCount: device.signCount, registeredDateTime: device.registeredDateTime, expiresDateTime: device.expiresDateTime,
    };
    return guardStorage('Recording the attested device', async () => {
      await this.ensure();
      try {
        // Conditional only: replace the row read (its ETag), or insert where none was.
        if (etag) await this.table.updateEntity(entity, 'Replace', { etag });
        else await this.table.createEntity(entity);
        return true;
      } catch (error) {
        if (isRestError(error, 409, 412, 404)) return false;
        throw error;
      }
    });
  }

  async advance(device: RegisteredDevice & { etag: string }, signCount: number): Promise<boolean> {
    return guardStorage('Advancing the device counter', async () => {
      try {
        await this.table.updateEntity({ partitionKey: device.thumbprint, rowKey: ROW, signCount }, 'Merge', { etag: device.etag });
        return true;
      } catch (error) {
        if (isRestError(error, 412, 404)) return false;
        throw error;
      }
    });
  }
}
