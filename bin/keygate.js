#!/usr/bin/env node
// The compiled CLI; `npm start` builds dist/ first (`npm run build`).
import '../dist/cli/entry.js';
