// ImageStore over one Blob container. Images are biometric data: private container, no public access.
import type { ContainerClient } from '@azure/storage-blob';
import { StorageUnavailableError } from '../../core/errors.js';
import type { ImageStore } from '../../core/ports.js';
import { isRestError, onceUntilFailure, type StorageClients } from './clients.js';

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
    return guard(async () => {
      try {
        return await this.container.getBlockBlobClient(blobName).downloadToBuffer();
      } catch (error) {
        if (isRestError(error, 404)) return undefined;
        throw error;
      }
    });
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

async function guard<T>(work: () => Promise<T>): Promise<T> {
  try {
    return await work();
  } catch (error) {
    if (error instanceof StorageUnavailableError) throw error;
    throw new StorageUnavailableError('Blob storage request failed.', { cause: error });
  }
}
