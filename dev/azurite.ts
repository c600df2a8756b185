// Azurite's flags, ports and connection string, shared by every local run (dev/stack.ts starts the process), so
// `npm start`, the tests and the bench use the same flags. `--skipApiVersionCheck` is required: the pinned storage
// SDKs send API versions newer than Azurite 3.35 knows.
import net from 'node:net';

export const DEV_ACCOUNT = 'devstoreaccount1';
/** The well-known, public Azurite development key (not a secret). */
export const DEV_ACCOUNT_KEY =
  'Eby8vdM02xNOcqFlqUwJPLlmEtlCDXJ1OUzFT50uSRZ6IFsuFq2UVErCz4I6tq/K1SZFPTOtr/KBHBeksoGMGw==';

export interface AzuritePorts { blob: number; queue: number; table: number }

export interface AzuriteOptions {
  ports: AzuritePorts;
  /** Folder for persistent data; omit for in-memory storage. */
  location?: string;
  /** Extra Azurite flags (e.g. `--silent`). */
  extraArgs?: string[];
}

export function connectionStringFor(ports: AzuritePorts, host = '127.0.0.1'): string {
  return [
    'DefaultEndpointsProtocol=http',
    `AccountName=${DEV_ACCOUNT}`,
    `AccountKey=${DEV_ACCOUNT_KEY}`,
    `BlobEndpoint=http://${host}:${ports.blob}/${DEV_ACCOUNT}`,
    `QueueEndpoint=http://${host}:${ports.queue}/${DEV_ACCOUNT}`,
    `TableEndpoint=http://${host}:${ports.table}/${DEV_ACCOUNT}`,
  ].join(';');
}

export function isPortOpen(port: number, host = '127.0.0.1'): Promise<boolean> {
  return new Promise((resolve) => {
    const socket = net.connect(port, host, () => { socket.destroy(); resolve(true); });
    socket.on('error', () => resolve(false));
  });
}

/** A port the OS reports free right now (tests use these so they never clash with a running `npm start`). */
export function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const server = net.createServer();
    server.unref();
    server.on('error', reject);
    server.listen(0, '127.0.0.1', () => {
      const address = server.address();
      server.close(() => (typeof address === 'object' && address ? resolve(address.port) : reject(new Error('no port'))));
    });
  });
}

export function azuriteArgs(options: AzuriteOptions): string[] {
  const { ports } = options;
  return [
    ...(options.location ? ['--location', options.location] : ['--inMemoryPersistence']),
    '--skipApiVersionCheck', '--loose', '--disableTelemetry',
    '--blobHost', '127.0.0.1', '--blobPort', String(ports.blob),
    '--queueHost', '127.0.0.1', '--queuePort', String(ports.queue),
    '--tableHost', '127.0.0.1', '--tablePort', String(ports.table),
    ...(options.extraArgs ?? []),
  ];
}
