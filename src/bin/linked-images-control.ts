#!/usr/bin/env node
// `npx linked-images-control`: the installed package's `npm run control` (src/client/control-main.ts).
import '../client/control-main';
