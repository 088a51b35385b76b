#!/usr/bin/env node
// The headless peer runs straight from the TypeScript sources through tsx's loader, so a seed
// box needs only `npm install`, no build step.
import { register } from 'tsx/esm/api';

register();
await import('../src/main/cli/main.ts');
