#!/usr/bin/env node
// `npx linked-images-worker`: the installed package's `npm run worker` (src/worker/main.ts).
import '../worker/main';
