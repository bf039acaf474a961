import { Client, Connection, defaultGrpcRetryOptions, makeGrpcRetryInterceptor } from '@temporalio/client';
import { loadClientConnectConfig } from '@temporalio/envconfig';

/** The port of the demo's server (`npm run demo`, `npm run server`): the temporal CLI's default. */
export const DEFAULT_PORT = 7233;

/**
 * Where the commands (worker, update, report, `npm run temporal`) connect when nothing else is
 * configured: the demo's server. Not `localhost`: it may resolve to ::1, where the dev server
 * does not listen.
 */
export const DEFAULT_ADDRESS = `127.0.0.1:${DEFAULT_PORT}`;

export type ConnectionSettings = ReturnType<typeof loadClientConnectConfig>['connectionOptions'] & {
  address: string;
  namespace: string;
};

/**
 * Where to connect, configured as for the `temporal` CLI: TEMPORAL_ADDRESS, TEMPORAL_NAMESPACE,
 * TEMPORAL_API_KEY, TEMPORAL_TLS*, TEMPORAL_PROFILE and the config file. Throws an Error whose
 * message says which settings could not be read.
 */
export function connectionSettings(): ConnectionSettings {
  let config: ReturnType<typeof loadClientConnectConfig>;
  try {
    config = loadClientConnectConfig();
  } catch (e) {
    throw new Error(
      `Could not load the Temporal connection settings (TEMPORAL_* environment, profile, config file): ${(e as Error).message}`,
    );
  }
  return {
    ...config.connectionOptions,
    address: config.connectionOptions.address ?? DEFAULT_ADDRESS,
    namespace: config.namespace ?? 'default',
  };
}

export function cannotConnect(address: string, e: unknown): string {
  return `Cannot connect to Temporal at ${address}: ${(e as Error).message}. Set TEMPORAL_ADDRESS (or a profile via TEMPORAL_PROFILE) to the server's host:port.`;
}

/**
 * The SDK's retries of failed gRPC calls, except for a response over the client's receive limit
 * (RESOURCE_EXHAUSTED "Received message larger than max"): the same request gets the same
 * response, so the caller must ask for less (history-reader.ts halves its page) instead of
 * waiting through ten backoffs.
 */
export function retryInterceptor() {
  const defaults = defaultGrpcRetryOptions();
  return makeGrpcRetryInterceptor({
    delayFunction: defaults.delayFunction,
    retryableDecider: (attempt, status) =>
      !/larger than max/i.test(status.details) && defaults.retryableDecider(attempt, status),
  });
}

/**
 * A client for the configured server, for the short-lived commands (report, update). Throws an
 * Error whose message says what to set when the settings cannot be read or the server not reached.
 */
export async function connectClient(): Promise<{
  client: Client;
  connection: Connection;
  address: string;
  namespace: string;
}> {
  const { address, namespace, apiKey, tls, metadata } = connectionSettings();
  let connection: Connection;
  try {
    connection = await Connection.connect({
      address,
      apiKey,
      tls,
      metadata,
      connectTimeout: '5 seconds',
      interceptors: [retryInterceptor()],
    });
  } catch (e) {
    throw new Error(cannotConnect(address, e));
  }
  return { client: new Client({ connection, namespace }), connection, address, namespace };
}

/** A connection as connectClient makes it. */
export type ClientConnection = Awaited<ReturnType<typeof connectClient>>;

/**
 * A `connect` for a watch (watchRun, followFleet) that hands out `first` once, then makes new
 * connections (after the server dropped): the command's own connection is not made twice.
 */
export function reusingFirst(first: ClientConnection): () => Promise<ClientConnection> {
  let next: ClientConnection | null = first;
  return async () => {
    const c = next ?? (await connectClient());
    next = null;
    return c;
  };
}
