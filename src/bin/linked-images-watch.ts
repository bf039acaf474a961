#!/usr/bin/env node
// `npx linked-images-watch`: the installed package's `npm run watch` (src/client/watch-main.ts).
import '../client/watch-main';
