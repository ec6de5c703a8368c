#!/usr/bin/env node
// The `hangsleuth` command: loads the TypeScript CLI through tsx's loader (no build step needed).
import { register } from 'tsx/esm/api';

// `hangsleuth analyze … | head` closes the pipe early: that is the reader's choice, not an error.
process.stdout.on('error', (error) => {
  if (error.code === 'EPIPE') process.exit(0);
  throw error;
});

register();
const { main } = await import('../services/cli/main.ts');
process.exitCode = await main(process.argv.slice(2), process.env);
