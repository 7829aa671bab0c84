#!/usr/bin/env node
// Entry point of the `smartcar` command. The package runs from its TypeScript sources through tsx's
// loader, so `npm ci` is the only set-up step (no build output to keep in sync with the sources).
import { register } from 'tsx/esm/api';
register();
await import('../src/cli/main.ts');
