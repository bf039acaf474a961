#!/usr/bin/env node
// `npx linked-images-report`: the installed package's `npm run report` (src/client/report/report-main.ts).
import '../client/report/report-main';
