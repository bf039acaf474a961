#!/usr/bin/env node
// `npx linked-images-pkg`: the installed package's `npm run pkg` (src/pkg-cli/main.ts), which runs
// its command line only as the main module; relative paths are the caller's, as typed.
import { runAsProcess } from '../pkg-cli/main';

runAsProcess(process.argv.slice(2));
