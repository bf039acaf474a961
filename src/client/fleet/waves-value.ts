import { UsageError } from '../../command-line/usage-error';
import { MAX_FAILURES_PERCENT } from '../../contract/input';

/**
 * `--waves 1,5,20%`: wave sizes like Ansible's `serial` (a number of hosts >= 1 or a percentage).
 * @throws UsageError naming the bad size.
 */
export function wavesValue(raw: string): (number | string)[] {
  return raw.split(',').map((part) => {
    const p = part.trim();
    if (/^\d+$/.test(p) && Number(p) >= 1) return Number(p);
    if (MAX_FAILURES_PERCENT.test(p) && Number(p.slice(0, -1)) > 0 && Number(p.slice(0, -1)) <= 100) return p;
    throw new UsageError(`--waves: expected sizes like 1,5,20% (hosts >= 1 or a percentage), got '${p}'`);
  });
}
