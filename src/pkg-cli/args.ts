import { Option } from 'commander';
import { integerIn, nonEmpty } from '../command-line/value-parsers';

/** `-R <image root>`, required: the image (or parent image) a command works on; `opts.R`. */
export function rootOption(description = 'the image'): Option {
  return new Option('-R <image root>', description).argParser(nonEmpty).makeOptionMandatory();
}

/** `--lock-wait <ms>` of the publishing commands, 0 to 3,600,000; `opts.lockWait` (undefined: the repository's 5000). */
export function lockWaitOption(): Option {
  return new Option('--lock-wait <ms>', 'how long to wait for another publisher (default 5000)').argParser(
    integerIn(0, 3_600_000),
  );
}
