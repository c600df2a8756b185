// ImageStore over one Blob container. Images are biometric data: private container, no public access.
import type { ContainerClient } from '@azure/storage-blob';
import type { ImageStore } from '../../core/ports.js';
import { guardStorage, onceUntilFailure, orAbsent, type StorageClients } from './clients.js';

const guard = <T>(work: () => Promise<T>) => guardStorage('Blob storage request', work);

export class BlobImageStore implements ImageStore {
  private readonly container: ContainerClient;

  /** Creates the container once per instance (idempotent; Bicep also creates it in Azure). */
  private readonly ensure: () => Promise<unknown>;

  constructor(clients: StorageClients, containerName: string) {
    this.container = clients.blobService.getContainerClient(containerName);
    this.ensure = onceUntilFailure(() => this.container.createIfNotExists());
  }

  async put(blobName: string, bytes: Uint8Array, contentType: string, metadata?: Record<string, string>): Promise<void> {
    await guard(async () => {
      await this.ensure();
      await this.container.getBlockBlobClient(blobName).uploadData(bytes, {
        blobHTTPHeaders: { blobContentType: contentType },
        metadata,
      });
    });
  }

  async get(blobName: string): Promise<Uint8Array | undefined> {
    return guard(() => orAbsent(this.container.getBlockBlobClient(blobName).downloadToBuffer()));
  }

  async delete(blobName: string): Promise<void> {
    await guard(async () => {
      await this.ensure();
      await this.container.getBlockBlobClient(blobName).deleteIfExists({ deleteSnapshots: 'include' });
    });
  }

  async exists(blobName: string): Promise<boolean> {
    return guard(async () => {
      await this.ensure();
      return this.container.getBlockBlobClient(blobName).exists();
    });
  }
}
