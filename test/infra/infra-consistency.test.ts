/**
 * Keeps infra/ (Dockerfile, docker-compose.yml, k8s/) consistent with the configuration module: the deployment
 * files may only set variables declared in CONFIG_VARIABLES, with values it accepts, run only the `hangsleuth`
 * subcommands that exist, and size/scale the worker from the same settings the worker reads.
 */
import { readdirSync, readFileSync } from 'node:fs';
import { dirname, join, relative, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { describe, expect, it } from 'vitest';
import { parseAllDocuments } from 'yaml';
import { CONFIG_VARIABLES, loadConfig } from '../../services/config/load-config.ts';

const ROOT = fileURLToPath(new URL('../../', import.meta.url));
const INFRA = join(ROOT, 'infra');
const K8S = join(INFRA, 'k8s');
const SECRET_EXAMPLE = 'secret.example.yaml';
const SUBCOMMANDS = ['migrate', 'api', 'worker'];
const DECLARED = new Set(Object.keys(CONFIG_VARIABLES));
/** Set by the image for Node itself, not read by HangSleuth. */
const IMAGE_ONLY_VARIABLES = new Set(['NODE_ENV']);
const DEFAULTS = loadConfig({});

type Env = Record<string, string>;
type Json = Record<string, unknown>;

// ---------------------------------------------------------------------------------------------------------------
// Reading the files

function readYaml(path: string): unknown[] {
  const documents = parseAllDocuments(readFileSync(path, 'utf8'), { merge: true });
  if (!Array.isArray(documents)) throw new Error(`${path}: not a YAML stream`);
  for (const document of documents) {
    const problems = [...document.errors, ...document.warnings];
    if (problems.length > 0) throw new Error(`${path}: ${problems.map(String).join('; ')}`);
  }
  return documents.map((document) => document.toJS() as unknown).filter((value) => value !== null && value !== undefined);
}

function record(value: unknown, what: string): Json {
  if (typeof value !== 'object' || value === null || Array.isArray(value)) throw new Error(`${what} is not a mapping`);
  return value as Json;
}

function list(value: unknown): unknown[] {
  return Array.isArray(value) ? value : [];
}

function text(value: unknown): string | undefined {
  return typeof value === 'string' || typeof value === 'number' || typeof value === 'boolean' ? String(value) : undefined;
}

/** The `hangsleuth` subcommand of a command line (`node bin/hangsleuth.js api`, `hangsleuth worker`, ...). */
function subcommandOf(argv: readonly string[]): string | undefined {
  const at = argv.findIndex((word) => /(^|\/)hangsleuth(\.js)?$/.test(word));
  return at === -1 ? undefined : (argv[at + 1] ?? '');
}

function words(command: unknown): string[] {
  if (typeof command === 'string') return command.trim().split(/\s+/);
  return list(command).map((word) => String(word));
}

/** Kubernetes memory quantity → MiB. */
function mebibytes(quantity: string): number {
  const match = /^(\d+(?:\.\d+)?)(Ki|Mi|Gi|Ti|k|M|G|T)?$/.exec(quantity);
  if (!match) throw new Error(`unsupported memory quantity ${quantity}`);
  const factor: Record<string, number> = { Ki: 1 / 1024, Mi: 1, Gi: 1024, Ti: 1024 * 1024, k: 1e3 / 2 ** 20, M: 1e6 / 2 ** 20, G: 1e9 / 2 ** 20, T: 1e12 / 2 ** 20 };
  return Number(match[1]) * (match[2] === undefined ? 1 / 2 ** 20 : (factor[match[2]] ?? Number.NaN));
}

function undeclared(names: Iterable<string>): string[] {
  return [...names].filter((name) => !DECLARED.has(name));
}

// ---------------------------------------------------------------------------------------------------------------
// docker-compose.yml

interface ComposeService {
  name: string;
  raw: Json;
  env: Env;
  subcommand: string | undefined;
}

function composeEnvironment(value: unknown): Env {
  const env: Env = {};
  if (Array.isArray(value)) {
    for (const entry of value) {
      const [name = '', ...rest] = String(entry).split('=');
      env[name] = rest.join('=');
    }
  } else if (value !== undefined && value !== null) {
    for (const [name, setting] of Object.entries(record(value, 'environment'))) env[name] = text(setting) ?? '';
  }
  return env;
}

function readCompose(): { services: ComposeService[]; hangsleuth: ComposeService[] } {
  const [compose] = readYaml(join(INFRA, 'docker-compose.yml'));
  const services = Object.entries(record(record(compose, 'compose file').services, 'services')).map(([name, value]) => {
    const raw = record(value, `service ${name}`);
    return { name, raw, env: composeEnvironment(raw.environment), subcommand: subcommandOf(words(raw.command)) };
  });
  // HangSleuth services are the ones built from infra/Dockerfile (or running its image).
  const hangsleuth = services.filter(({ raw }) => raw.build !== undefined || String(raw.image ?? '').startsWith('hangsleuth'));
  return { services, hangsleuth };
}

describe('infra/docker-compose.yml', () => {
  const { hangsleuth } = readCompose();

  it('runs migrate, api and worker from infra/Dockerfile', () => {
    expect(hangsleuth.map((service) => service.subcommand).sort()).toEqual([...SUBCOMMANDS].sort());
    for (const service of hangsleuth) {
      expect(SUBCOMMANDS, `service ${service.name}`).toContain(service.subcommand);
      expect(service.raw.build, `service ${service.name}`).toEqual({ context: '..', dockerfile: 'infra/Dockerfile' });
    }
  });

  it('sets only variables declared in CONFIG_VARIABLES, with valid values', () => {
    for (const service of hangsleuth) {
      expect(undeclared(Object.keys(service.env)), `service ${service.name}`).toEqual([]);
      // env_file would bring variables this test cannot see.
      expect(service.raw.env_file, `service ${service.name}`).toBeUndefined();
      const config = loadConfig(service.env);
      expect(config.objectStore.embedded, `service ${service.name} must use MinIO, not the embedded s3rver`).toBeNull();
      expect(config.host).toBe('0.0.0.0');
    }
  });

  it('starts api and worker after a successful migration', () => {
    for (const service of hangsleuth.filter(({ subcommand }) => subcommand !== 'migrate')) {
      const dependsOn = record(service.raw.depends_on, `${service.name}.depends_on`);
      expect(dependsOn.migrate, `service ${service.name}`).toEqual({ condition: 'service_completed_successfully' });
      for (const [name, condition] of Object.entries(dependsOn)) {
        expect(record(condition, `${service.name}.depends_on.${name}`).condition, `${service.name} → ${name}`).toMatch(/^service_(healthy|completed_successfully)$/);
      }
    }
  });
});

// ---------------------------------------------------------------------------------------------------------------
// k8s/

interface Manifest {
  file: string;
  kind: string;
  name: string;
  raw: Json;
}

interface Container {
  workload: Manifest;
  name: string;
  raw: Json;
  subcommand: string | undefined;
}

function manifestsOf(file: string): Manifest[] {
  return readYaml(join(K8S, file)).map((value) => {
    const raw = record(value, file);
    return { file, kind: String(raw.kind), name: String(record(raw.metadata, `${file} metadata`).name), raw };
  });
}

const kustomization = record(readYaml(join(K8S, 'kustomization.yaml'))[0], 'kustomization.yaml');
const resources = list(kustomization.resources).map(String);
const manifests = resources.flatMap(manifestsOf);
const secretExamples = manifestsOf(SECRET_EXAMPLE);

function only(kind: string, name?: string): Manifest[] {
  return manifests.filter((manifest) => manifest.kind === kind && (name === undefined || manifest.name === name));
}

function containersOf(workload: Manifest): Container[] {
  const spec = record(workload.raw.spec, `${workload.name}.spec`);
  const podTemplate = workload.kind === 'CronJob' ? record(record(spec.jobTemplate, 'jobTemplate').spec, 'jobTemplate.spec').template : spec.template;
  const podSpec = record(record(podTemplate, `${workload.name} template`).spec, `${workload.name} pod spec`);
  return [...list(podSpec.initContainers), ...list(podSpec.containers)].map((value) => {
    const raw = record(value, `${workload.name} container`);
    return { workload, name: String(raw.name), raw, subcommand: subcommandOf([...words(raw.command), ...words(raw.args)]) };
  });
}

const workloads = manifests.filter((manifest) => ['Deployment', 'StatefulSet', 'DaemonSet', 'Job', 'CronJob'].includes(manifest.kind));
const containers = workloads.flatMap(containersOf);
const hangsleuthContainers = containers.filter((container) => String(container.raw.image).split(':')[0]?.endsWith('hangsleuth'));

function keysOf(manifest: Manifest): string[] {
  return [...Object.keys(record(manifest.raw.data ?? {}, 'data')), ...Object.keys(record(manifest.raw.stringData ?? {}, 'stringData'))];
}

function valuesOf(manifest: Manifest): Env {
  const values: Env = {};
  for (const [name, value] of Object.entries(record(manifest.raw.stringData ?? {}, 'stringData'))) values[name] = text(value) ?? '';
  for (const [name, value] of Object.entries(record(manifest.raw.data ?? {}, 'data'))) {
    values[name] = manifest.kind === 'Secret' ? Buffer.from(String(value), 'base64').toString('utf8') : (text(value) ?? '');
  }
  return values;
}

function envFromRefs(container: Container): { kind: 'ConfigMap' | 'Secret'; name: string; prefix: unknown }[] {
  return list(container.raw.envFrom).map((value) => {
    const source = record(value, `${container.name}.envFrom`);
    if (source.configMapRef !== undefined) return { kind: 'ConfigMap', name: String(record(source.configMapRef, 'configMapRef').name), prefix: source.prefix };
    return { kind: 'Secret', name: String(record(source.secretRef, `${container.name}.envFrom`).name), prefix: source.prefix };
  });
}

/** The environment a container starts with: its envFrom sources (the ConfigMap, the Secret example) then env. */
function environmentOf(container: Container): Env {
  const env: Env = {};
  for (const ref of envFromRefs(container)) {
    const [source] = ref.kind === 'ConfigMap' ? only('ConfigMap', ref.name) : secretExamples.filter(({ kind, name }) => kind === 'Secret' && name === ref.name);
    if (source === undefined) throw new Error(`${container.workload.name}/${container.name}: ${ref.kind} ${ref.name} is neither in the kustomization nor in ${SECRET_EXAMPLE}`);
    Object.assign(env, valuesOf(source));
  }
  for (const value of list(container.raw.env)) {
    const variable = record(value, `${container.name}.env`);
    env[String(variable.name)] = text(variable.value) ?? '';
  }
  return env;
}

function containerRunning(subcommand: string): Container {
  const [container, ...others] = hangsleuthContainers.filter((candidate) => candidate.subcommand === subcommand);
  if (container === undefined || others.length > 0) throw new Error(`expected exactly one container running \`hangsleuth ${subcommand}\``);
  return container;
}

describe('infra/k8s', () => {
  it('lists every manifest in kustomization.yaml except the Secret example', () => {
    const files = readdirSync(K8S).filter((file) => /\.ya?ml$/.test(file) && file !== 'kustomization.yaml' && file !== SECRET_EXAMPLE);
    expect([...resources].sort()).toEqual(files.sort());
    expect(resources).not.toContain(SECRET_EXAMPLE);
    expect(secretExamples.length).toBeGreaterThan(0);
    expect(secretExamples.every(({ kind }) => kind === 'Secret')).toBe(true);
    expect(manifests.filter(({ kind }) => kind === 'Secret'), 'real Secrets must not be in the repository').toEqual([]);
  });

  it('runs migrate, api and worker, and nothing else', () => {
    expect(hangsleuthContainers.map(({ subcommand }) => subcommand).sort()).toEqual([...SUBCOMMANDS].sort());
    for (const container of hangsleuthContainers) expect(SUBCOMMANDS, `${container.workload.name}/${container.name}`).toContain(container.subcommand);
  });

  it('puts only CONFIG_VARIABLES in the ConfigMap, the Secret example and container env', () => {
    const envSecrets = new Set(hangsleuthContainers.flatMap(envFromRefs).filter(({ kind }) => kind === 'Secret').map(({ name }) => name));
    const keySecrets = new Set(
      manifests.flatMap(({ kind, raw }) =>
        kind === 'TriggerAuthentication' ? list(record(raw.spec, 'TriggerAuthentication spec').secretTargetRef).map((ref) => String(record(ref, 'secretTargetRef').name)) : [],
      ),
    );
    for (const configMap of only('ConfigMap')) expect(undeclared(keysOf(configMap)), `ConfigMap ${configMap.name}`).toEqual([]);
    for (const secret of secretExamples) {
      // Every example Secret is either the containers' environment (checked) or KEDA's credentials.
      expect(envSecrets.has(secret.name) || keySecrets.has(secret.name), `Secret ${secret.name} is used by nothing`).toBe(true);
      if (envSecrets.has(secret.name)) expect(undeclared(keysOf(secret)), `Secret ${secret.name}`).toEqual([]);
    }
    for (const container of hangsleuthContainers) {
      const label = `${container.workload.name}/${container.name}`;
      expect(envFromRefs(container).map(({ prefix }) => prefix), `${label}: envFrom prefix renames variables`).toEqual(envFromRefs(container).map(() => undefined));
      expect(undeclared(list(container.raw.env).map((variable) => String(record(variable, 'env').name))), label).toEqual([]);
      const config = loadConfig(environmentOf(container));
      expect(config.objectStore.embedded, `${label} must not use the embedded s3rver (read-only filesystem)`).toBeNull();
    }
  });

  it('scales the worker with KEDA on the BullMQ wait list of the configured prefix', () => {
    const worker = containerRunning('worker');
    const config = loadConfig(environmentOf(worker));
    const [scaledObject, ...more] = only('ScaledObject');
    expect(scaledObject).toBeDefined();
    expect(more).toEqual([]);
    const spec = record(scaledObject?.raw.spec, 'ScaledObject spec');
    expect(record(spec.scaleTargetRef, 'scaleTargetRef').name).toBe(worker.workload.name);
    expect(worker.workload.kind).toBe('Deployment');
    const triggers = list(spec.triggers).map((trigger) => record(trigger, 'trigger'));
    const redis = triggers.filter((trigger) => trigger.type === 'redis');
    expect(redis).toHaveLength(1);
    const metadata = record(redis[0]?.metadata, 'trigger metadata');

    const configMapPrefix = only('ConfigMap').map((configMap) => valuesOf(configMap).QUEUE_PREFIX).find((prefix) => prefix !== undefined);
    const prefix = configMapPrefix ?? DEFAULTS.queuePrefix;
    expect(config.queuePrefix).toBe(prefix);
    expect(metadata.listName).toBe(`${prefix}:analysis:wait`);

    // KEDA watches the Redis the worker uses (the example Secret's REDIS_URL).
    const redisUrl = new URL(config.redisUrl);
    expect(metadata.address).toBe(`${redisUrl.hostname}:${redisUrl.port || '6379'}`);
    expect(String(metadata.databaseIndex ?? '0')).toBe(redisUrl.pathname.replace(/^\//, '') || '0');
    expect(String(metadata.enableTLS ?? 'false')).toBe(String(redisUrl.protocol === 'rediss:'));
    // The reconciler runs in the worker: never scale to zero.
    expect(Number(spec.minReplicaCount ?? 0)).toBeGreaterThanOrEqual(1);
  });

  it('sizes and stops the worker from the analysis settings', () => {
    const worker = containerRunning('worker');
    const config = loadConfig(environmentOf(worker));
    const limits = record(record(worker.raw.resources, 'worker resources').limits, 'worker limits');
    const requests = record(record(worker.raw.resources, 'worker resources').requests, 'worker requests');
    const budget = config.analysis.concurrency * config.analysis.memoryMb;
    expect(mebibytes(String(limits.memory))).toBeGreaterThanOrEqual(budget + 512);
    expect(mebibytes(String(requests.memory))).toBeGreaterThanOrEqual(budget);
    const podSpec = record(record(record(worker.workload.raw.spec, 'spec').template, 'template').spec, 'pod spec');
    expect(Number(podSpec.terminationGracePeriodSeconds)).toBeGreaterThan(config.analysis.timeoutMs / 1000);
  });

  it('probes the api on /readyz and /healthz at HANGSLEUTH_PORT', () => {
    const api = containerRunning('api');
    const config = loadConfig(environmentOf(api));
    const ports = list(api.raw.ports).map((port) => record(port, 'port'));
    const probePath = (probe: unknown) => record(record(probe, 'probe').httpGet, 'httpGet').path;
    expect(ports.map((port) => port.containerPort)).toContain(config.port);
    expect(probePath(api.raw.readinessProbe)).toBe('/readyz');
    expect(probePath(api.raw.livenessProbe)).toBe('/healthz');
    expect(config.host).toBe('0.0.0.0');
  });

  it('runs every HangSleuth container non-root with a read-only root filesystem and a writable /tmp', () => {
    for (const container of hangsleuthContainers) {
      const label = `${container.workload.name}/${container.name}`;
      const podSpec = record(record(record(container.workload.raw.spec, 'spec').template, 'template').spec, 'pod spec');
      const podSecurity = record(podSpec.securityContext ?? {}, 'pod securityContext');
      const security = record(container.raw.securityContext ?? {}, 'securityContext');
      expect(security.runAsNonRoot ?? podSecurity.runAsNonRoot, label).toBe(true);
      expect(security.readOnlyRootFilesystem, label).toBe(true);
      expect(list(container.raw.volumeMounts).map((mount) => record(mount, 'volumeMount').mountPath), label).toContain('/tmp');
    }
  });
});

// ---------------------------------------------------------------------------------------------------------------
// Dockerfile

interface Instruction {
  keyword: string;
  argument: string;
}

function readDockerfile(): Instruction[] {
  const lines = readFileSync(join(INFRA, 'Dockerfile'), 'utf8').split('\n');
  const instructions: Instruction[] = [];
  let pending = '';
  for (const line of lines) {
    if (/^\s*#/.test(line)) continue; // comments (and parser directives) may sit inside continuations too
    pending += line.replace(/\\\s*$/, ' ');
    if (/\\\s*$/.test(line)) continue;
    const match = /^\s*(\w+)\s+(.*)$/.exec(pending);
    if (match) instructions.push({ keyword: (match[1] ?? '').toUpperCase(), argument: (match[2] ?? '').trim() });
    pending = '';
  }
  return instructions;
}

function envNames(argument: string): string[] {
  if (!argument.includes('=')) return [argument.split(/\s+/)[0] ?? ''];
  return [...argument.matchAll(/([A-Za-z_][A-Za-z0-9_]*)=(?:"[^"]*"|'[^']*'|\S*)/g)].map((match) => match[1] ?? '');
}

/** The source paths of a COPY from the build context (flags and the destination dropped). */
function copySources(argument: string): string[] {
  const operands = argument.startsWith('[') ? (JSON.parse(argument) as string[]) : argument.split(/\s+/);
  return operands.filter((operand) => !operand.startsWith('--')).slice(0, -1).map((source) => source.replace(/^\.\//, '').replace(/\/$/, ''));
}

/** `file` (relative to the repository) and every local module it imports, transitively. */
function localModules(file: string, seen = new Set<string>()): Set<string> {
  if (seen.has(file)) return seen;
  seen.add(file);
  const source = readFileSync(join(ROOT, file), 'utf8');
  for (const match of source.matchAll(/(?:from|import)\s*\(?\s*['"](\.{1,2}\/[^'"]+)['"]/g)) {
    localModules(relative(ROOT, resolve(ROOT, dirname(file), match[1] ?? '')), seen);
  }
  return seen;
}

const packageJson = JSON.parse(readFileSync(join(ROOT, 'package.json'), 'utf8')) as { scripts?: Record<string, string> };

describe('infra/Dockerfile', () => {
  const instructions = readDockerfile();
  const lastFrom = instructions.map(({ keyword }) => keyword).lastIndexOf('FROM');
  const runtime = instructions.slice(lastFrom);
  const last = (keyword: string) => runtime.filter((instruction) => instruction.keyword === keyword).at(-1)?.argument;

  it('has a build stage and a runtime stage', () => {
    expect(instructions.filter(({ keyword }) => keyword === 'FROM').length).toBeGreaterThanOrEqual(2);
    expect(runtime.some(({ keyword, argument }) => keyword === 'COPY' && argument.startsWith('--from='))).toBe(true);
  });

  it('copies what `prisma generate` (the postinstall of npm ci) reads before running npm ci', () => {
    const npmCi = instructions.findIndex(({ keyword, argument }) => keyword === 'RUN' && /\bnpm ci\b/.test(argument));
    expect(npmCi).toBeGreaterThan(-1);
    const copied = instructions.slice(0, npmCi).filter(({ keyword, argument }) => keyword === 'COPY' && !argument.startsWith('--from=')).flatMap(({ argument }) => copySources(argument));
    const postinstall = /^node\s+(\S+)/.exec(packageJson.scripts?.postinstall ?? '')?.[1];
    const needed = ['package.json', 'package-lock.json', 'prisma/schema.prisma', ...localModules('prisma.config.ts'), ...(postinstall === undefined ? [] : localModules(postinstall))];
    for (const path of needed) expect(copied.some((source) => path === source || path.startsWith(`${source}/`)), `${path} is not copied before npm ci`).toBe(true);
  });

  it('only runs npm scripts that package.json defines', () => {
    const scripts = instructions.filter(({ keyword }) => keyword === 'RUN').flatMap(({ argument }) => [...argument.matchAll(/\bnpm run ([\w:-]+)/g)].map((match) => match[1] ?? ''));
    expect(scripts.filter((script) => packageJson.scripts?.[script] === undefined)).toEqual([]);
  });

  it('runs as a non-root user', () => {
    const user = last('USER');
    expect(user).toBeDefined();
    expect(user?.split(':')[0]).not.toMatch(/^(root|0)$/);
  });

  it('sets only CONFIG_VARIABLES (and NODE_ENV) in the runtime image', () => {
    const names = runtime.filter(({ keyword }) => keyword === 'ENV').flatMap(({ argument }) => envNames(argument));
    expect(names.filter((name) => !DECLARED.has(name) && !IMAGE_ONLY_VARIABLES.has(name))).toEqual([]);
  });

  it('starts the api by default, exposes its port and checks /healthz', () => {
    const cmd = last('CMD');
    expect(cmd).toBeDefined();
    expect(subcommandOf(JSON.parse(cmd ?? '[]') as string[])).toBe('api');
    expect(last('EXPOSE')).toBe(String(DEFAULTS.port));
    expect(last('HEALTHCHECK')).toContain('/healthz');
  });
});
