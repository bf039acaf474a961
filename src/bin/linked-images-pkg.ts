#!/usr/bin/env node
// `npx linked-images-pkg`: the installed package's `npm run pkg` (src/pkg-cli/main.ts), which runs
// its command line only as the main module; relative paths are the caller's, as typed.
import { main } from '../pkg-cli/main';

main(process.argv.slice(2)).then(
  (code) => {
    process.exitCode = code;
  },
  (e: unknown) => {
    // main maps every failure it knows to an exit code; anything else is a bug: show it whole.
    console.error(e);
    process.exitCode = 1;
  },
);
