/**
 * `node bench/direct-update-main.ts <host JSON> <concurrency> <stage delay ms>`: one
 * runDirectUpdate in this process, its result as JSON on stdout (bench/direct-process.ts).
 */
import { runDirectUpdate } from './direct-update';

async function main(): Promise<void> {
  const [host, concurrency, stageDelayMs] = process.argv.slice(2);
  const r = await runDirectUpdate(JSON.parse(host), {
    concurrency: Number(concurrency),
    stageDelayMs: Number(stageDelayMs),
  });
  process.stdout.write(JSON.stringify(r) + '\n');
}

main().catch((e) => {
  process.stderr.write(`${e?.stack ?? e}\n`);
  process.exit(1);
});
