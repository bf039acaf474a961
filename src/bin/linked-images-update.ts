#!/usr/bin/env node
// `npx linked-images-update`: the installed package's `npm run update` (src/client/update-main.ts).
import '../client/update-main';
