#!/usr/bin/env node
// The `presently` command. Presently is written in TypeScript and runs through tsx's loader, so a checkout needs
// no build step.
import { register } from 'tsx/esm/api';

register();
await import('../src/cli/main.ts');
