// Rewrites the generated table in docs/CONFIGURATION.md from services/config/load-config.ts (`npm run docs:config`).
import { readFile, writeFile } from 'node:fs/promises';
import { describeConfiguration } from '../services/config/load-config.ts';

const FILE = new URL('../docs/CONFIGURATION.md', import.meta.url);
const START = '<!-- generated: npm run docs:config -->';
const END = '<!-- end of generated table -->';

const text = await readFile(FILE, 'utf8');
const before = text.slice(0, text.indexOf(START) + START.length);
const after = text.slice(text.indexOf(END));
await writeFile(FILE, `${before}\n${describeConfiguration()}\n${after}`);
