/**
 * The service's processes: `migrate`, `api`, `worker`, and `serve` (everything in one process on local defaults,
 * which `npm start` runs). Each loads the configuration once, from the environment it is given.
 */
import { ConfigError, loadConfig, type Config } from '../config/load-config.ts';
import { migrateDatabase } from '../db/migrate-database.ts';
import { openRuntime } from '../app/open-runtime.ts';
import { startApi } from '../app/start-api.ts';
import { startWorker } from '../app/start-worker.ts';
import { runLocalDemo } from '../app/run-local-demo.ts';
import { untilSignalled } from '../app/until-signalled.ts';

export const SERVICE_COMMANDS = ['migrate', 'api', 'worker', 'serve'] as const;
export type ServiceCommand = (typeof SERVICE_COMMANDS)[number];

export function isServiceCommand(verb: string | undefined): verb is ServiceCommand {
  return (SERVICE_COMMANDS as readonly string[]).includes(verb ?? '');
}

export async function runServiceCommand(command: ServiceCommand, argv: string[], env: Record<string, string | undefined>): Promise<number> {
  let config: Config;
  try {
    config = loadConfig(env);
  } catch (error) {
    if (error instanceof ConfigError) {
      console.error(`hangsleuth: ${error.message}`);
      return 1;
    }
    throw error;
  }
  if (command === 'migrate') {
    const result = await migrateDatabase(config.databaseUrl);
    console.log(`migrations: ${result.applied.length} applied (${result.applied.join(', ') || 'none'}), ${result.alreadyApplied.length} already applied`);
    return 0;
  }
  // `serve` prints its own summary on stdout; info logs would drown it unless asked for.
  if (command === 'serve') return runLocalDemo(config, { demo: !argv.includes('--no-demo'), logLevel: env.HANGSLEUTH_LOG_LEVEL ? config.logLevel : 'warn' });

  const runtime = await openRuntime(config, `hangsleuth-${command}`, { serveEmbeddedS3: command === 'api' });
  const handle = command === 'api' ? await startApi(runtime) : await startWorker(runtime);
  if (command === 'api') runtime.logger.info({ url: (handle as { url: string }).url }, 'API listening');
  else runtime.logger.info({ concurrency: config.analysis.concurrency }, 'analysis worker started');
  await untilSignalled();
  runtime.logger.info('shutting down');
  await handle.close();
  await runtime.close();
  return 0;
}
