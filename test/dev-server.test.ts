import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { promises as fsp } from 'node:fs';
import * as net from 'node:net';
import * as os from 'node:os';
import * as path from 'node:path';
import { Client, Connection } from '@temporalio/client';
import { TestWorkflowEnvironment } from '@temporalio/testing';
import { SEARCH_ATTRIBUTES, startDevServer, type DevServer } from '../src/dev/dev-server';
import { DevServerError, findTemporalCli, temporalCliVersion } from '../src/dev/temporal-cli';
import { portInUse } from '../src/dev/free-port';

const KEYWORD = 2; // temporal.api.enums.v1.IndexedValueType.INDEXED_VALUE_TYPE_KEYWORD
const INT = 3;

let cli: string;
let tmp: string;
const started: DevServer[] = [];

before(async () => {
  cli = await findTemporalCli();
  tmp = await fsp.mkdtemp(path.join(os.tmpdir(), 'li-'));
});

after(async () => {
  await Promise.all(started.map((s) => s.stop()));
  await fsp.rm(tmp, { recursive: true, force: true });
});

async function start(opts: Parameters<typeof startDevServer>[0]): Promise<DevServer> {
  const server = await startDevServer({ cliPath: cli, ...opts });
  started.push(server);
  return server;
}

function isRunning(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch (e) {
    assert.equal((e as NodeJS.ErrnoException).code, 'ESRCH');
    return false;
  }
}

async function withClient<T>(server: DevServer, fn: (client: Client, conn: Connection) => Promise<T>): Promise<T> {
  const connection = await Connection.connect({ address: server.address });
  try {
    return await fn(new Client({ connection, namespace: server.namespace }), connection);
  } finally {
    await connection.close();
  }
}

describe('findTemporalCli', () => {
  test('finds a binary that reports its version', async (t) => {
    const version = await temporalCliVersion(cli);
    t.diagnostic(`${cli}: ${version}`);
    assert.match(version, /^temporal version \d+\.\d+\.\d+/);
  });

  test('rejects a TEMPORAL_CLI_PATH that does not exist, naming the variable and the path', async () => {
    const saved = process.env.TEMPORAL_CLI_PATH;
    process.env.TEMPORAL_CLI_PATH = '/nonexistent';
    try {
      await assert.rejects(findTemporalCli({ install: false }), (e: unknown) => {
        assert.ok(e instanceof DevServerError);
        assert.equal(e.code, 'CLI_NOT_FOUND');
        assert.match(e.message, /TEMPORAL_CLI_PATH/);
        assert.match(e.message, /\/nonexistent/);
        return true;
      });
    } finally {
      if (saved === undefined) delete process.env.TEMPORAL_CLI_PATH;
      else process.env.TEMPORAL_CLI_PATH = saved;
    }
  });
});

describe('startDevServer', () => {
  test('serves the default namespace with the project search attributes, and stop() ends the process', async () => {
    const server = await start({ searchAttributes: SEARCH_ATTRIBUTES });
    assert.match(server.address, /^127\.0\.0\.1:\d+$/);
    assert.equal(server.uiUrl, null);
    await withClient(server, async (client, conn) => {
      const ns = await conn.workflowService.describeNamespace({ namespace: 'default' });
      assert.equal(ns.namespaceInfo?.name, 'default');
      const { customAttributes } = await conn.operatorService.listSearchAttributes({ namespace: 'default' });
      for (const name of Object.keys(SEARCH_ATTRIBUTES)) assert.equal(customAttributes?.[name], KEYWORD, name);
      const listed = [];
      for await (const wf of client.workflow.list({ query: `LinkedImageStatus = 'none'` })) listed.push(wf);
      assert.equal(listed.length, 0);
    });
    assert.ok(isRunning(server.pid));
    await server.stop();
    assert.equal(isRunning(server.pid), false);
    await server.stop(); // a second stop is a no-op
  });

  test('keeps namespaces and workflow history in the db file across restarts', async () => {
    const dbFile = path.join(tmp, 'nested', 'temporal.db');
    const first = await start({ dbFile, namespace: 'li-test', searchAttributes: SEARCH_ATTRIBUTES });
    assert.equal(first.namespace, 'li-test');
    await withClient(first, (client) =>
      client.workflow.start('noSuchWorkflow', { taskQueue: 'nobody-polls', workflowId: 'kept-on-disk', args: [] }),
    );
    await first.stop();
    assert.equal(isRunning(first.pid), false);
    assert.ok((await fsp.stat(dbFile)).size > 0);

    // No namespace option: the restart must find li-test in the db, not create it.
    const second = await start({ dbFile, searchAttributes: { ...SEARCH_ATTRIBUTES, LinkedImageAdded: 'Int' } });
    await withClient(second, async (_client, conn) => {
      const ns = await conn.workflowService.describeNamespace({ namespace: 'li-test' });
      assert.equal(ns.namespaceInfo?.name, 'li-test');
      const wf = await new Client({ connection: conn, namespace: 'li-test' }).workflow
        .getHandle('kept-on-disk')
        .describe();
      assert.equal(wf.type, 'noSuchWorkflow');
      assert.equal(wf.status.name, 'RUNNING');
      // `--search-attribute` is ignored on an existing db; startDevServer registers it itself.
      const { customAttributes } = await conn.operatorService.listSearchAttributes({ namespace: 'default' });
      assert.equal(customAttributes?.LinkedImageAdded, INT);
      assert.equal(customAttributes?.LinkedImageParent, KEYWORD);
    });
    await second.stop();
    assert.equal(isRunning(second.pid), false);
  });

  test('refuses a search attribute registered with another type in the db, and leaves no server behind', async () => {
    const dbFile = path.join(tmp, 'conflict.db');
    const first = await start({ dbFile, searchAttributes: SEARCH_ATTRIBUTES });
    const port = Number(first.address.split(':')[1]);
    await first.stop();
    await assert.rejects(start({ dbFile, port, searchAttributes: { LinkedImageStatus: 'Int' } }), (e: unknown) => {
      assert.ok(e instanceof DevServerError);
      assert.equal(e.code, 'SEARCH_ATTRIBUTE_CONFLICT');
      assert.match(e.message, /LinkedImageStatus is registered as Keyword .*expected Int/);
      return true;
    });
    assert.equal(await portInUse(port), false);
  });

  test('reports a port that is already in use with the server output', async () => {
    const sockets = new Set<net.Socket>();
    const blocker = net.createServer((s) => sockets.add(s));
    await new Promise<void>((r) => blocker.listen(0, '127.0.0.1', r));
    const port = (blocker.address() as net.AddressInfo).port;
    try {
      await assert.rejects(start({ port }), (e: unknown) => {
        assert.ok(e instanceof DevServerError);
        assert.equal(e.code, 'PORT_IN_USE');
        assert.match(e.message, /address already in use/);
        return true;
      });
    } finally {
      for (const s of sockets) s.destroy();
      await new Promise((r) => blocker.close(r));
    }
  });
});

describe('TestWorkflowEnvironment', () => {
  test('createLocal runs the found binary as an existing-path executable', async (t) => {
    const began = Date.now();
    const env = await TestWorkflowEnvironment.createLocal({
      server: { executable: { type: 'existing-path', path: cli } },
    });
    t.diagnostic(`createLocal took ${Date.now() - began} ms`);
    try {
      const ns = await env.connection.workflowService.describeNamespace({ namespace: env.namespace ?? 'default' });
      assert.equal(ns.namespaceInfo?.name, env.namespace ?? 'default');
    } finally {
      await env.teardown();
    }
  });
});
