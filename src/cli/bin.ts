#!/usr/bin/env node
// Entry point of the `pachca-digest` binary. `npm run build` bundles it (with its dependencies,
// split by dynamic import) into dist/bin/pachca-digest.js: one-shot runs start faster that way.
import { runFromProcess } from './main.js';

void runFromProcess();
