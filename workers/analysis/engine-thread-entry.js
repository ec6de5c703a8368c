// Piscina loads this file in each worker thread: it registers tsx's loader there, then hands over the
// TypeScript task function (threads do not inherit the main thread's loader hooks on Node 20).
import { register } from 'tsx/esm/api';

register();
const { default: analyseInThread } = await import('./engine-thread.ts');
export default analyseInThread;
