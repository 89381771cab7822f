// `ocits build`: a Dockerfile's stages built one instruction at a time.
// Metadata instructions change the image config; RUN, COPY, ADD and
// WORKDIR change files, each in an overlay over the stage's root
// filesystem whose upper directory becomes the step's layer (see
// overlay.ts, tree-entries.ts); RUN runs as an ocits container
// (run-step.ts). A layer step is looked up in the cache first, and the
// stage's root filesystem is unpacked only when a step has to run, so a
// fully cached build unpacks nothing. The image is named under its tags
// only once everything is in the store: a failed build names nothing.
import * as crypto from 'node:crypto';
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { OcitsError, errnoText, isErrno, messageOf } from '../errors';
import { applyLayers } from '../image/bundle';
import type { CredentialOptions } from '../image/credentials';
import { resolveInRoot } from '../image/image-user';
import { OCI_CONFIG, OCI_MANIFEST, type Descriptor, type ImageConfig, type ImageManifest } from '../image/media-types';
import { hostPlatform, parsePlatform } from '../image/platform';
import { Progress } from '../image/progress';
import { pullImage } from '../image/pull';
import { normalizeReference } from '../image/reference';
import { RootfsWriter } from '../image/rootfs-writer';
import type { ImageStore } from '../image/store';
import { loadStoredImage, type StoredImage } from '../image/stored-image';
import { BuildCache } from './cache';
import {
  archiveCompression,
  copySources,
  extractArchive,
  makeDirectoryInRoot,
  resolveSources,
  sourcesDigest,
  writeFileInRoot,
  type Owner,
  type SourceTree,
} from './copy-step';
import { IgnoreRules } from './dockerignore';
import { errorAt, parseDockerfile, type Dockerfile, type Instruction } from './dockerfile';
import { argDeclarations, exposedPorts, instructionFlags, keyValues, parseDuration } from './instructions';
import { LayerWriter } from './layer-writer';
import { mountOverlay, removeOverlay, unmountOverlay, type OverlayMount } from './overlay';
import type { BuildProgress, BuildStep } from './progress';
import { runBundle, writeRunBundle, type NetworkMode, type RuntimeInvocation } from './run-step';
import { HEREDOC_SCRIPT, parseRunMounts, prepareRunMounts } from './run-mounts';
import { expandHeredoc, expandWord, splitWords, variablesOf, type Variables } from './shell-words';
import { findStage, globalArgNames, neededStages, planStages, targetStage, type Stage, type StagePlan } from './stages';
import { readXattrs, writeUpperDirectory } from './upper-entries';
import { makeWorkDir, removeAbandonedWorkDirs, removeWorkDir } from './work-dir';

export interface BuildOptions extends CredentialOptions {
  store: ImageStore;
  context: string;
  /** The Dockerfile; CONTEXT/Dockerfile by default. */
  file?: string;
  tags: string[];
  buildArgs: Map<string, string>;
  target?: string;
  noCache: boolean;
  network: NetworkMode;
  /** --secret: the content of each id. */
  secrets: Map<string, Buffer>;
  compression: 'gzip' | 'zstd';
  platform?: string;
  tlsVerify: boolean;
  progress: BuildProgress;
  runtime: RuntimeInvocation;
}

export interface BuildResult {
  /** The image manifest's digest. */
  digest: string;
  /** The names it is stored under. */
  names: string[];
}

/** The image config as the builder writes it: image-spec's fields and Docker's extensions. */
interface BuildConfig extends ImageConfig {
  author?: string;
  config: NonNullable<ImageConfig['config']> & {
    Shell?: string[];
    Healthcheck?: { Test: string[]; Interval?: number; Timeout?: number; StartPeriod?: number; StartInterval?: number; Retries?: number };
    OnBuild?: string[];
  };
  history: NonNullable<ImageConfig['history']>;
}

/** A stage as built so far. */
interface StageState {
  /** The stage's index in the Dockerfile (-1 for an image named by --from). */
  index: number;
  label: string;
  config: BuildConfig;
  layers: Descriptor[];
  /** The cache key of everything so far. */
  key: string;
  /** ARGs declared in this stage, with their values (undefined: declared without one). */
  args: Map<string, string | undefined>;
  /** Whether Cmd came from the base image (ENTRYPOINT then clears it, as in Docker). */
  cmdFromBase: boolean;
  rootfs?: { dir: string; writer: RootfsWriter; applied: number };
}

/** The proxy ARGs every build knows without a declaration (Docker's predefined ARGs). */
const PROXY_ARGS = ['HTTP_PROXY', 'http_proxy', 'HTTPS_PROXY', 'https_proxy', 'FTP_PROXY', 'ftp_proxy', 'NO_PROXY', 'no_proxy', 'ALL_PROXY', 'all_proxy'];
const DEFAULT_SHELL = ['/bin/sh', '-c'];
const DEFAULT_PATH = 'PATH=/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin';
const HISTORY_COMMENT = 'buildkit.dockerfile.v0';

export async function buildImage(options: BuildOptions): Promise<BuildResult> {
  const context = path.resolve(options.context);
  let contextStatus: fs.Stats;
  try {
    contextStatus = fs.statSync(context);
  } catch (error) {
    throw new OcitsError(`build context ${context}: ${errnoText(error)}`);
  }
  if (!contextStatus.isDirectory()) throw new OcitsError(`build context ${context} is not a directory`);
  if (options.file === '-') throw new OcitsError('-f -: a Dockerfile on stdin is not supported by ocits yet; give its path');
  const file = options.file !== undefined ? path.resolve(options.file) : path.join(context, 'Dockerfile');
  let text: string;
  try {
    text = fs.readFileSync(file, 'utf8');
  } catch (error) {
    throw new OcitsError(`cannot read the Dockerfile ${file}: ${errnoText(error)}`);
  }
  const names = options.tags.map((tag) => normalizeReference(tag));
  const dockerfile = parseDockerfile(text, options.file ?? 'Dockerfile');
  const builder = new Builder(options, dockerfile, context, file);
  const release = await options.store.holdBlobs();
  // Killed between RUN steps, the build still unmounts its overlays and removes its work directory.
  // During a RUN step, the signal goes to the container (run-step.ts) and the build fails as usual.
  const onSignal = (signal: NodeJS.Signals) => {
    if (builder.running) return;
    builder.cleanUp();
    release();
    process.exit(128 + os.constants.signals[signal]);
  };
  process.on('SIGINT', onSignal);
  process.on('SIGTERM', onSignal);
  try {
    const image = await builder.build();
    for (const name of names) options.store.setReference(name, image);
    return { digest: image.digest, names };
  } finally {
    process.off('SIGINT', onSignal);
    process.off('SIGTERM', onSignal);
    builder.cleanUp();
    release();
  }
}

class Builder {
  private readonly plan: StagePlan;
  private readonly cache: BuildCache;
  private readonly ignore: IgnoreRules;
  private readonly work: string;
  private readonly globals = new Map<string, string>();
  private readonly built = new Map<number, StageState>();
  /** Images named by --from, unpacked at most once per build. */
  private readonly fromImages = new Map<string, StageState>();
  private readonly consumedArgs = new Set<string>();
  private readonly epoch: number | undefined;
  private readonly platform;
  private readonly mounts: OverlayMount[] = [];
  private counter = 0;
  /** Whether a RUN step's container is running. */
  running = false;

  constructor(
    private readonly options: BuildOptions,
    private readonly dockerfile: Dockerfile,
    private readonly context: string,
    dockerfilePath: string,
  ) {
    this.plan = planStages(dockerfile);
    this.cache = new BuildCache(options.store, !options.noCache);
    this.ignore = IgnoreRules.forBuild(context, dockerfilePath);
    this.platform = options.platform !== undefined ? parsePlatform(options.platform) : hostPlatform();
    const epochText = options.buildArgs.get('SOURCE_DATE_EPOCH') ?? process.env.SOURCE_DATE_EPOCH;
    if (epochText !== undefined && epochText !== '') {
      if (!/^\d+$/.test(epochText)) throw new OcitsError(`SOURCE_DATE_EPOCH must be seconds since the epoch, not "${epochText}"`);
      this.epoch = Number(epochText);
    }
    options.store.ensureLayout();
    const scratch = path.join(options.store.root, '.ocits');
    removeAbandonedWorkDirs(scratch);
    this.work = makeWorkDir(scratch);
  }

  async build(): Promise<Descriptor> {
    const escape = this.dockerfile.escape;
    for (const [name, value] of Object.entries(this.platformArgs())) this.globals.set(name, value);
    for (const instruction of this.plan.globalArgs) {
      this.at(instruction, () => {
        for (const declaration of argDeclarations(instruction, escape)) {
          const given = this.options.buildArgs.get(declaration.name);
          if (given !== undefined) this.consumedArgs.add(declaration.name);
          const value = given ?? (declaration.defaultValue !== undefined ? expandWord(declaration.defaultValue, variablesOf(this.globals), escape) : undefined);
          if (value !== undefined) this.globals.set(declaration.name, value);
          else this.globals.delete(declaration.name);
        }
      });
    }
    const target = targetStage(this.plan, this.options.target);
    const stages = neededStages(this.plan, target, this.dockerfile.file, variablesOf(this.globals), escape);
    for (const stage of stages) this.built.set(stage.index, await this.buildStage(stage));
    const unused = [...this.options.buildArgs.keys()].filter((name) => !this.consumedArgs.has(name) && !PROXY_ARGS.includes(name) && name !== 'SOURCE_DATE_EPOCH');
    if (unused.length > 0) this.options.progress.message(`[Warning] one or more build-args [${unused.join(' ')}] were not consumed`);
    return this.writeImage(this.built.get(target.index)!);
  }

  cleanUp(): void {
    for (const mount of this.mounts.splice(0)) {
      try {
        removeOverlay(mount);
      } catch {
        // The work directory below goes anyway, or says why it cannot.
      }
    }
    removeWorkDir(this.work);
  }

  private platformArgs(): Record<string, string> {
    const host = hostPlatform();
    const format = (p: { os: string; architecture: string; variant?: string }) => `${p.os}/${p.architecture}${p.variant !== undefined ? `/${p.variant}` : ''}`;
    return {
      TARGETPLATFORM: format(this.platform),
      TARGETOS: this.platform.os,
      TARGETARCH: this.platform.architecture,
      TARGETVARIANT: this.platform.variant ?? '',
      BUILDPLATFORM: format(host),
      BUILDOS: host.os,
      BUILDARCH: host.architecture,
      BUILDVARIANT: host.variant ?? '',
    };
  }

  /** Runs fn, turning its failure into one naming the Dockerfile, the line and the instruction. */
  private at<T>(instruction: Instruction, fn: () => T): T {
    try {
      return fn();
    } catch (error) {
      throw this.located(instruction, error);
    }
  }

  private located(instruction: Instruction, error: unknown): OcitsError {
    const message = error instanceof OcitsError ? error.message : errnoText(error);
    if (message.startsWith(`${this.dockerfile.file}:`)) return error as OcitsError;
    return errorAt(this.dockerfile.file, instruction, message);
  }

  // ------------------------------------------------------------ stages

  private async buildStage(stage: Stage): Promise<StageState> {
    const escape = this.dockerfile.escape;
    const label = stage.name ?? `stage-${stage.index}`;
    const total = stage.instructions.length + 1;
    const baseText = this.at(stage.from, () => expandWord(stage.base, variablesOf(this.globals), escape));
    const step = this.options.progress.step(`${label} 1/${total}`, stage.from.text);
    const state = await this.stateFrom(stage, baseText, label).catch((error) => {
      throw this.located(stage.from, error);
    });
    step.done();
    const triggers = state.config.config.OnBuild ?? [];
    delete state.config.config.OnBuild;
    if (triggers.length > 0) {
      const parsed = parseDockerfile(triggers.join('\n'), `${baseText} ONBUILD`);
      for (const trigger of parsed.instructions) {
        if (['ONBUILD', 'FROM', 'MAINTAINER'].includes(trigger.keyword)) throw errorAt(parsed.file, trigger, `${trigger.keyword} is not allowed as an ONBUILD trigger`);
        await this.dispatch(state, trigger, `${label} onbuild`);
      }
    }
    for (const [index, instruction] of stage.instructions.entries()) {
      await this.dispatch(state, instruction, `${label} ${index + 2}/${total}`);
    }
    return state;
  }

  private async stateFrom(stage: Stage, baseText: string, label: string): Promise<StageState> {
    const fromFlags = instructionFlags(stage.from);
    const platformText = fromFlags.get('platform')?.[0] !== undefined ? expandWord(fromFlags.get('platform')![0], variablesOf(this.globals)) : this.options.platform;
    const fresh = (config: BuildConfig, layers: Descriptor[], key: string, cmdFromBase: boolean): StageState => ({
      index: stage.index,
      label,
      config,
      layers,
      key,
      args: new Map(),
      cmdFromBase,
    });
    if (baseText.toLowerCase() === 'scratch') {
      const platform = platformText !== undefined ? parsePlatform(platformText) : this.platform;
      const config: BuildConfig = {
        architecture: platform.architecture,
        os: platform.os,
        ...(platform.variant !== undefined ? { variant: platform.variant } : {}),
        config: { Env: [DEFAULT_PATH] },
        rootfs: { type: 'layers', diff_ids: [] },
        history: [],
      };
      return fresh(config, [], BuildCache.key('scratch', [config.architecture, config.os]), false);
    }
    const parent = findStage(this.plan, baseText, stage.index);
    if (parent !== undefined) {
      const built = this.built.get(parent.index)!;
      return fresh(structuredClone(built.config), [...built.layers], built.key, built.config.config.Cmd !== undefined);
    }
    const image = await this.baseImage(baseText, platformText);
    const config = structuredClone(image.config) as BuildConfig;
    config.config ??= {};
    config.history ??= [];
    return fresh(config, [...image.manifest.layers], image.descriptor.digest, config.config.Cmd !== undefined && config.config.Cmd !== null);
  }

  /** An image from the store, pulled first (as ocits pull would) when the store lacks it. */
  private async baseImage(reference: string, platform: string | undefined): Promise<StoredImage> {
    const { store } = this.options;
    if (store.findReference(reference) === undefined && store.findReference(normalizeReference(reference)) === undefined) {
      this.options.progress.message(`pulling ${normalizeReference(reference)}`);
      await pullImage(reference, {
        store,
        ...(platform !== undefined ? { platform } : {}),
        tlsVerify: this.options.tlsVerify,
        ...(this.options.creds !== undefined ? { creds: this.options.creds } : {}),
        ...(this.options.authFile !== undefined ? { authFile: this.options.authFile } : {}),
        jobs: 3,
        progress: Progress.forStderr(this.options.progress.quiet),
      });
    }
    return loadStoredImage(store, reference, platform);
  }

  // ------------------------------------------------------------ instructions

  /** The variables an instruction's words see: the stage's ARGs, overridden by its ENV. */
  private variables(state: StageState): Variables {
    const values = new Map<string, string>();
    for (const [name, value] of state.args) if (value !== undefined) values.set(name, value);
    for (const entry of state.config.config.Env ?? []) {
      const equals = entry.indexOf('=');
      values.set(equals === -1 ? entry : entry.slice(0, equals), equals === -1 ? '' : entry.slice(equals + 1));
    }
    return variablesOf(values);
  }

  private expand(state: StageState, word: string): string {
    return expandWord(word, this.variables(state), this.dockerfile.escape);
  }

  private async dispatch(state: StageState, instruction: Instruction, label: string): Promise<void> {
    const step = this.options.progress.step(label, instruction.text);
    try {
      switch (instruction.keyword) {
        case 'RUN':
          await this.run(state, instruction, step);
          return;
        case 'COPY':
        case 'ADD':
          await this.copy(state, instruction, step);
          return;
        case 'WORKDIR':
          await this.workdir(state, instruction, step);
          return;
        default:
          this.metadata(state, instruction);
          step.done();
      }
    } catch (error) {
      const located = this.located(instruction, error);
      step.failed(located.message);
      throw located;
    }
  }

  /** Instructions that change only the image config. */
  private metadata(state: StageState, instruction: Instruction): void {
    const settings = state.config.config;
    const escape = this.dockerfile.escape;
    instructionFlags(instruction);
    const words = () => (instruction.json ?? splitWords(instruction.args, escape)).map((word) => this.expand(state, word));
    switch (instruction.keyword) {
      case 'ARG':
        for (const declaration of argDeclarations(instruction, escape)) {
          const given = this.options.buildArgs.get(declaration.name);
          if (given !== undefined) this.consumedArgs.add(declaration.name);
          let value = given;
          if (value === undefined && declaration.defaultValue !== undefined) value = this.expand(state, declaration.defaultValue);
          if (value === undefined && declaration.name in this.platformArgs()) value = this.platformArgs()[declaration.name];
          if (value === undefined && this.globals.has(declaration.name) && globalArgNames(this.plan, escape).includes(declaration.name)) value = this.globals.get(declaration.name);
          state.args.set(declaration.name, value);
        }
        // ARGs are no part of the image: only their use by later steps is.
        return;
      case 'ENV': {
        const pairs = keyValues(instruction, escape).map(({ key, value }) => [this.expand(state, key), this.expand(state, value)] as const);
        let env = settings.Env ?? [];
        for (const [key, value] of pairs) env = [...env.filter((entry) => entry.split('=')[0] !== key), `${key}=${value}`];
        settings.Env = env;
        this.record(state, `ENV ${pairs.map(([key, value]) => `${key}=${value}`).join(' ')}`);
        return;
      }
      case 'LABEL': {
        const pairs = keyValues(instruction, escape).map(({ key, value }) => [this.expand(state, key), this.expand(state, value)] as const);
        settings.Labels = { ...(settings.Labels ?? {}) };
        for (const [key, value] of pairs) settings.Labels[key] = value;
        this.record(state, `LABEL ${pairs.map(([key, value]) => `${key}=${value}`).join(' ')}`);
        return;
      }
      case 'MAINTAINER':
        state.config.author = this.expand(state, instruction.args);
        this.record(state, `MAINTAINER ${state.config.author}`);
        return;
      case 'EXPOSE': {
        const ports = exposedPorts(words());
        settings.ExposedPorts = { ...(settings.ExposedPorts ?? {}) };
        for (const port of ports) settings.ExposedPorts[port] = {};
        this.record(state, `EXPOSE map[${ports.map((port) => `${port}:{}`).join(' ')}]`);
        return;
      }
      case 'VOLUME': {
        const volumes = words();
        if (volumes.length === 0 || volumes.some((volume) => volume.trim() === '')) throw new OcitsError('VOLUME specified can not be an empty string');
        settings.Volumes = { ...(settings.Volumes ?? {}) };
        for (const volume of volumes) settings.Volumes[volume] = {};
        this.record(state, `VOLUME [${volumes.join(' ')}]`);
        return;
      }
      case 'USER': {
        const user = this.expand(state, instruction.args.trim());
        if (user === '') throw new OcitsError('USER requires an argument');
        settings.User = user;
        this.record(state, `USER ${user}`);
        return;
      }
      case 'STOPSIGNAL': {
        const signal = this.expand(state, instruction.args.trim());
        if (!/^(SIG)?[A-Z0-9+-]+$/.test(signal)) throw new OcitsError(`invalid signal "${signal}"`);
        settings.StopSignal = signal;
        this.record(state, `STOPSIGNAL ${signal}`);
        return;
      }
      case 'SHELL':
        if (instruction.json === undefined || instruction.json.length === 0) throw new OcitsError('SHELL requires the arguments to be in JSON form');
        settings.Shell = instruction.json;
        this.record(state, `SHELL ${JSON.stringify(instruction.json)}`);
        return;
      case 'CMD':
        settings.Cmd = this.command(state, instruction);
        state.cmdFromBase = false;
        this.record(state, `CMD ${JSON.stringify(settings.Cmd)}`);
        return;
      case 'ENTRYPOINT':
        settings.Entrypoint = this.command(state, instruction);
        if (state.cmdFromBase) {
          delete settings.Cmd;
          state.cmdFromBase = false;
        }
        this.record(state, `ENTRYPOINT ${JSON.stringify(settings.Entrypoint)}`);
        return;
      case 'HEALTHCHECK':
        settings.Healthcheck = this.healthcheck(state, instruction);
        this.record(state, `HEALTHCHECK ${JSON.stringify(settings.Healthcheck)}`);
        return;
      case 'ONBUILD': {
        const trigger = instruction.args.trim();
        const keyword = trigger.split(/\s/)[0].toUpperCase();
        if (trigger === '') throw new OcitsError('ONBUILD requires an instruction');
        if (['ONBUILD', 'FROM', 'MAINTAINER'].includes(keyword)) throw new OcitsError(`${keyword} isn't allowed as an ONBUILD trigger`);
        settings.OnBuild = [...(settings.OnBuild ?? []), trigger];
        this.record(state, `ONBUILD ${trigger}`);
        return;
      }
      default:
        throw new OcitsError(`${instruction.keyword} is not handled here`);
    }
  }

  /** CMD and ENTRYPOINT: the JSON form as it is, the shell form through the stage's shell. */
  private command(state: StageState, instruction: Instruction): string[] {
    if (instruction.json !== undefined) return instruction.json;
    return [...(state.config.config.Shell ?? DEFAULT_SHELL), instruction.args];
  }

  private healthcheck(state: StageState, instruction: Instruction): NonNullable<BuildConfig['config']['Healthcheck']> {
    const words = splitWords(instruction.args, this.dockerfile.escape);
    if (words.length === 1 && words[0].toUpperCase() === 'NONE') {
      if (instruction.flags.length > 0) throw new OcitsError('HEALTHCHECK NONE takes no options');
      return { Test: ['NONE'] };
    }
    if (words.length < 2 || words[0].toUpperCase() !== 'CMD') throw new OcitsError('HEALTHCHECK takes NONE or CMD followed by a command');
    const rest = instruction.args.trim().slice(words[0].length).trim();
    const json = rest.startsWith('[') ? (JSON.parse(rest) as unknown) : undefined;
    const test = Array.isArray(json) && json.every((item) => typeof item === 'string') ? ['CMD', ...(json as string[])] : ['CMD-SHELL', rest];
    const flags = instructionFlags(instruction);
    const check: NonNullable<BuildConfig['config']['Healthcheck']> = { Test: test };
    const duration = (name: string) => {
      const value = flags.get(name)?.[0];
      return value === undefined ? undefined : parseDuration(this.expand(state, value), name);
    };
    const interval = duration('interval');
    const timeout = duration('timeout');
    const startPeriod = duration('start-period');
    const startInterval = duration('start-interval');
    if (interval !== undefined) check.Interval = interval;
    if (timeout !== undefined) check.Timeout = timeout;
    if (startPeriod !== undefined) check.StartPeriod = startPeriod;
    if (startInterval !== undefined) check.StartInterval = startInterval;
    const retries = flags.get('retries')?.[0];
    if (retries !== undefined) {
      if (!/^\d+$/.test(retries)) throw new OcitsError(`--retries must be a whole number, not "${retries}"`);
      check.Retries = Number(retries);
    }
    return check;
  }

  /** A history entry; emptyLayer for steps that add no layer. */
  private record(state: StageState, createdBy: string, emptyLayer = true): void {
    state.config.history.push({ created: this.now(), created_by: createdBy, comment: HISTORY_COMMENT, ...(emptyLayer ? { empty_layer: true } : {}) });
  }

  private now(): string {
    return (this.epoch !== undefined ? new Date(this.epoch * 1000) : new Date()).toISOString();
  }

  // ------------------------------------------------------------ layer steps

  private async workdir(state: StageState, instruction: Instruction, step: BuildStep): Promise<void> {
    instructionFlags(instruction);
    const given = this.expand(state, instruction.args.trim());
    if (given === '') throw new OcitsError('WORKDIR requires an argument');
    const dir = path.posix.resolve(state.config.config.WorkingDir || '/', given);
    state.config.config.WorkingDir = dir;
    await this.layerStep(state, step, `WORKDIR ${dir}`, ['WORKDIR', dir], async (mount) => {
      makeDirectoryInRoot(mount.merged, dir);
    });
  }

  private async run(state: StageState, instruction: Instruction, step: BuildStep): Promise<void> {
    const flags = instructionFlags(instruction);
    const settings = state.config.config;
    const shell = settings.Shell ?? DEFAULT_SHELL;
    let args: string[];
    let heredocScript: Buffer | undefined;
    if (instruction.json !== undefined) {
      args = instruction.json;
    } else if (instruction.heredocs.length === 1 && /^<<-?(["']?)[A-Za-z_][A-Za-z0-9_]*\1$/.test(instruction.args.trim())) {
      // RUN <<EOF alone: the heredoc is the script; one with #! runs as a program of its own.
      const content = instruction.heredocs[0].content;
      if (content.startsWith('#!')) {
        heredocScript = Buffer.from(content);
        args = [HEREDOC_SCRIPT];
      } else {
        args = [...shell, content];
      }
    } else if (instruction.heredocs.length > 0) {
      args = [...shell, `${instruction.args}\n${instruction.heredocs.map((heredoc) => `${heredoc.content}${heredoc.name}\n`).join('')}`];
    } else {
      args = [...shell, instruction.args];
    }
    const network = (flags.get('network')?.[0] ?? this.options.network) as string;
    if (network !== 'host' && network !== 'none' && network !== 'default') throw new OcitsError(`--network=${network}: only host and none are supported by ocits yet`);
    const networkMode: NetworkMode = network === 'default' ? this.options.network : network;
    const mountSpecs = (flags.get('mount') ?? []).map((text) => parseRunMounts(text, (word) => this.expand(state, word)));
    const env = this.runEnvironment(state);
    const workdir = settings.WorkingDir || '/';
    const createdBy = instruction.json !== undefined ? `RUN ${JSON.stringify(args)}` : `RUN ${shell.join(' ')} ${instruction.args}`;
    // A bind mount's content is part of the step: the context's files by digest, a stage's or image's by its key.
    const mountKeys = await Promise.all(
      mountSpecs.map(async (spec) => {
        if (spec.type !== 'bind') return spec;
        return { ...spec, content: spec.from === undefined ? this.bindDigest(spec.source) : (await this.sourceState(spec.from, state)).key };
      }),
    );
    const keyParts = ['RUN', args, env, settings.User ?? '', workdir, networkMode, mountKeys, heredocScript?.toString() ?? ''];
    await this.layerStep(state, step, `${createdBy} # buildkit`, keyParts, async (mount) => {
      makeDirectoryInRoot(mount.merged, workdir);
      const prepared = await prepareRunMounts(mountSpecs, {
        context: { root: this.context, what: 'build context', ignore: this.ignore },
        stageRoot: async (reference) => this.treeFor(reference, state),
        secrets: this.options.secrets,
        store: this.options.store,
        scratch: this.scratchDir('mounts'),
        network: networkMode,
        workdir,
        heredocScript,
      });
      try {
        const bundle = this.scratchDir('bundle');
        const destinations = writeRunBundle(bundle, mount.merged, { args, env, user: settings.User, workdir, network: networkMode, mounts: prepared.mounts });
        const missing = missingMountpoints(mount.merged, destinations);
        const id = `ocits-build-${process.pid}-${crypto.randomBytes(4).toString('hex')}`;
        this.running = true;
        const result = await runBundle(bundle, id, this.options.runtime, (chunk) => step.output(chunk)).finally(() => (this.running = false));
        if (result.status !== 0) {
          const shown = this.options.progress.quiet ? `\n${result.output.trimEnd()}` : '';
          throw new OcitsError(`the command ${JSON.stringify(args[args.length - 1].split('\n')[0])} exited with status ${result.status}${shown}`);
        }
        return () => removeMountpoints(mount.upper, missing);
      } finally {
        prepared.release();
      }
    });
  }

  /** The environment of a RUN: the image's Env, the stage's ARGs it does not override, and proxy build args. */
  private runEnvironment(state: StageState): string[] {
    const env = [...(state.config.config.Env ?? [])];
    const names = new Set(env.map((entry) => entry.split('=')[0]));
    for (const [name, value] of state.args) {
      if (value === undefined || names.has(name)) continue;
      env.push(`${name}=${value}`);
      names.add(name);
    }
    for (const name of PROXY_ARGS) {
      const value = this.options.buildArgs.get(name);
      if (value !== undefined && !names.has(name)) env.push(`${name}=${value}`);
    }
    if (!names.has('PATH')) env.unshift(DEFAULT_PATH);
    return env;
  }

  private bindDigest(source: string): string {
    const tree: SourceTree = { root: this.context, what: 'build context', ignore: this.ignore };
    return sourcesDigest(tree, resolveSources(tree, [source]));
  }

  private async copy(state: StageState, instruction: Instruction, step: BuildStep): Promise<void> {
    const flags = instructionFlags(instruction);
    const add = instruction.keyword === 'ADD';
    const words = instruction.json ?? splitWords(instruction.args, this.dockerfile.escape);
    if (words.length < 2) throw new OcitsError(`${instruction.keyword} requires at least two arguments: source and destination`);
    const heredocs = new Map(instruction.heredocs.map((heredoc) => [heredoc.name, heredoc]));
    const sourceWords = words.slice(0, -1);
    const destText = this.expand(state, words[words.length - 1]);
    const workdir = state.config.config.WorkingDir || '/';
    const dest = (destText.startsWith('/') ? destText : `${workdir.replace(/\/$/, '')}/${destText}`).replace(/^\/\/+/, '/');
    const inline: Array<{ name: string; content: Buffer }> = [];
    const urls: string[] = [];
    const names: string[] = [];
    for (const word of sourceWords) {
      const heredoc = /^<<-?(["']?)([A-Za-z_][A-Za-z0-9_]*)\1$/.exec(word);
      if (heredoc !== null && heredocs.has(heredoc[2]) && instruction.json === undefined) {
        const doc = heredocs.get(heredoc[2])!;
        inline.push({ name: doc.name, content: Buffer.from(doc.expand ? expandHeredoc(doc.content, this.variables(state), this.dockerfile.escape) : doc.content) });
        continue;
      }
      const name = this.expand(state, word);
      if (add && /^https?:\/\//i.test(name)) urls.push(name);
      else if (add && /^(git@|git:\/\/)|\.git(#|$)/.test(name)) throw new OcitsError(`ADD of a git repository (${name}) is not supported by ocits yet`);
      else names.push(name);
    }
    const from = flags.get('from')?.[0];
    const fromState = from !== undefined ? await this.sourceState(this.expand(state, from), state) : undefined;
    const contextTree: SourceTree = { root: this.context, what: 'build context', ignore: this.ignore };
    // Context sources are found (and hashed) now; a stage's files only if the step must run: its key says what they are.
    const contextSources = fromState === undefined ? resolveSources(contextTree, names) : undefined;
    const checkCount = (count: number) => {
      if ((count > 1 || sourceWords.length > 1) && !dest.endsWith('/')) {
        throw new OcitsError(`When using ${instruction.keyword} with more than one source file, the destination must be a directory and end with a /`);
      }
    };
    checkCount((contextSources?.length ?? names.length) + urls.length + inline.length);
    const chownText = flags.get('chown')?.[0] !== undefined ? this.expand(state, flags.get('chown')![0]) : undefined;
    const chmodText = flags.get('chmod')?.[0];
    if (chmodText !== undefined && !/^[0-7]{3,4}$/.test(chmodText)) throw new OcitsError(`--chmod=${chmodText}: only an octal mode is supported by ocits yet`);
    const chmod = chmodText !== undefined ? parseInt(chmodText, 8) : undefined;
    const downloads = await Promise.all(urls.map((url) => this.download(url)));
    const checksum = flags.get('checksum')?.[0];
    if (checksum !== undefined) {
      // As in BuildKit: a checksum pins the content of a single URL source.
      if (urls.length !== 1 || names.length > 0 || inline.length > 0) throw new OcitsError('--checksum needs exactly one source, a URL');
      const expected = this.expand(state, checksum);
      if (!/^sha256:[0-9a-f]{64}$/.test(expected)) throw new OcitsError(`--checksum=${expected}: expected sha256:<64 hex digits>`);
      if (downloads[0].digest !== expected) throw new OcitsError(`${downloads[0].url}: its content has the digest ${downloads[0].digest}, not the --checksum ${expected}`);
    }
    const keyParts = [
      instruction.keyword,
      fromState !== undefined ? fromState.key : 'context',
      names,
      contextSources !== undefined ? sourcesDigest(contextTree, contextSources) : '',
      downloads.map((download) => [download.url, download.digest]),
      inline.map((doc) => [doc.name, doc.content.toString('base64')]),
      dest,
      chownText ?? '',
      chmodText ?? '',
    ];
    const createdBy = `${instruction.keyword} ${instruction.flags.map((flag) => `--${flag.name}=${flag.value}`).join(' ')}${instruction.flags.length > 0 ? ' ' : ''}${[...sourceWords, destText].join(' ')} # buildkit`;
    await this.layerStep(state, step, createdBy, keyParts, async (mount) => {
      const owner = chownText !== undefined ? chownOwner(mount.merged, chownText) : undefined;
      const tree = fromState !== undefined ? await this.treeOf(fromState) : contextTree;
      const sources = contextSources ?? resolveSources(tree, names);
      checkCount(sources.length + urls.length + inline.length);
      for (const source of sources) {
        const compression = add && from === undefined && source.status.isFile() ? archiveCompression(source.full) : undefined;
        if (compression !== undefined) await extractArchive(source.full, compression, mount.merged, dest.endsWith('/') ? dest : `${dest}/`, owner);
        else copySources(tree, [source], mount.merged, dest, { ...(owner !== undefined ? { owner } : {}), ...(chmod !== undefined ? { chmod } : {}) });
      }
      for (const download of downloads) {
        writeFileInRoot(mount.merged, dest, download.basename, fs.readFileSync(download.file), chmod ?? 0o600, owner ?? { uid: 0, gid: 0 }, download.modified);
      }
      for (const doc of inline) writeFileInRoot(mount.merged, dest, doc.name, doc.content, chmod ?? 0o644, owner ?? { uid: 0, gid: 0 });
    });
  }

  /** ADD URL: the file downloaded into the work directory, its digest for the cache. */
  private async download(url: string): Promise<{ url: string; file: string; basename: string; digest: string; modified?: Date }> {
    let response: Response;
    try {
      response = await fetch(url, { redirect: 'follow' });
    } catch (error) {
      throw new OcitsError(`${url}: ${messageOf((error as { cause?: unknown }).cause ?? error)}`);
    }
    if (!response.ok) throw new OcitsError(`${url}: the server answered ${response.status} ${response.statusText}`);
    const data = Buffer.from(await response.arrayBuffer());
    const file = path.join(this.scratchDir('download'), 'file');
    fs.writeFileSync(file, data, { mode: 0o600 });
    const basename = decodeURIComponent(new URL(url).pathname.split('/').filter((part) => part !== '').pop() ?? '');
    if (basename === '' || basename === '.' || basename === '..') throw new OcitsError(`${url}: cannot tell a file name from the URL; give a destination file name`);
    const lastModified = response.headers.get('last-modified');
    const modified = lastModified !== null && !Number.isNaN(Date.parse(lastModified)) ? new Date(lastModified) : undefined;
    return { url, file, basename, digest: `sha256:${crypto.createHash('sha256').update(data).digest('hex')}`, ...(modified !== undefined ? { modified } : {}) };
  }

  /** The files of a stage built before (by name or index) or of an image (--from), unpacked once. */
  private async treeFor(reference: string, current: StageState): Promise<SourceTree> {
    return this.treeOf(await this.sourceState(reference, current));
  }

  /** A stage built before (by name or index), or an image (pulled if need be), named by --from. */
  private async sourceState(reference: string, current: StageState): Promise<StageState> {
    const stage = findStage(this.plan, reference, current.index);
    if (stage !== undefined) return this.built.get(stage.index)!;
    const known = this.fromImages.get(reference);
    if (known !== undefined) return known;
    let image: StoredImage;
    try {
      image = await this.baseImage(reference, this.options.platform);
    } catch (error) {
      throw new OcitsError(`--from=${reference}: no stage before this one is named "${reference}", and it is no image either: ${messageOf(error)}`);
    }
    const state: StageState = {
      index: -1,
      label: `image ${reference}`,
      config: image.config as BuildConfig,
      layers: [...image.manifest.layers],
      key: image.descriptor.digest,
      args: new Map(),
      cmdFromBase: false,
    };
    this.fromImages.set(reference, state);
    return state;
  }

  private async treeOf(state: StageState): Promise<SourceTree> {
    return { root: await this.ensureRootfs(state), what: state.index === -1 ? state.label : `stage ${state.label}` };
  }


  /**
   * A layer step: reused from the cache when its key is there, else run in
   * an overlay over the stage's root filesystem; the upper directory
   * becomes the layer (none when the step changed nothing). change may
   * return a function to tidy the upper directory once unmounted.
   */
  private async layerStep(
    state: StageState,
    step: BuildStep,
    createdBy: string,
    keyParts: unknown[],
    change: (mount: OverlayMount) => Promise<void | (() => void)>,
  ): Promise<void> {
    const key = BuildCache.key(state.key, keyParts);
    const cached = this.cache.get(key);
    if (cached !== undefined) {
      step.cached();
      this.addLayer(state, key, createdBy, cached.layer);
      return;
    }
    const lower = await this.ensureRootfs(state);
    const mount = mountOverlay(lower, this.scratchPath('step'));
    this.mounts.push(mount);
    let layer: { descriptor: Descriptor; diffId: string } | undefined;
    try {
      const tidy = await change(mount);
      unmountOverlay(mount);
      if (typeof tidy === 'function') tidy();
      const xattrs = readXattrs(mount.upper);
      pruneUnchangedDirectories(mount.upper, lower, xattrs);
      layer = await this.writeLayer(mount.upper, xattrs);
    } finally {
      removeOverlay(mount);
      this.mounts.splice(this.mounts.indexOf(mount), 1);
    }
    this.cache.put(key, layer !== undefined ? { layer } : {});
    // The new layer reaches the stage's root filesystem when a later step needs it (ensureRootfs).
    this.addLayer(state, key, createdBy, layer);
    step.done();
  }

  private addLayer(state: StageState, key: string, createdBy: string, layer: { descriptor: Descriptor; diffId: string } | undefined): void {
    state.key = key;
    if (layer !== undefined) {
      state.layers.push(layer.descriptor);
      state.config.rootfs.diff_ids.push(layer.diffId);
    }
    this.record(state, createdBy, layer === undefined);
  }

  /** The upper directory as a layer blob in the store; undefined when it holds nothing. */
  private async writeLayer(upper: string, xattrs: Map<string, Map<string, Buffer>>): Promise<{ descriptor: Descriptor; diffId: string } | undefined> {
    if (fs.readdirSync(upper).length === 0) return undefined;
    const { store, compression } = this.options;
    const file = store.temporaryBlobFile('build-layer');
    const writer = new LayerWriter(file, compression, this.epoch);
    try {
      await writeUpperDirectory(upper, writer, xattrs);
      const written = await writer.finish();
      store.commitFile(file, written.digest);
      return { descriptor: { mediaType: written.mediaType, digest: written.digest, size: written.size }, diffId: written.diffId };
    } catch (error) {
      writer.abort();
      fs.rmSync(file, { force: true });
      throw error;
    }
  }

  /** The stage's root filesystem, unpacked from its layers when first needed, and brought up to date. */
  private async ensureRootfs(state: StageState): Promise<string> {
    if (state.rootfs === undefined) {
      const dir = this.scratchPath('rootfs');
      fs.mkdirSync(dir, 0o755);
      state.rootfs = { dir, writer: new RootfsWriter(dir, { rootless: false }), applied: 0 };
    }
    await this.applyNewLayers(state);
    return state.rootfs.dir;
  }

  private async applyNewLayers(state: StageState): Promise<void> {
    if (state.rootfs === undefined) return;
    const { writer, applied } = state.rootfs;
    if (applied === state.layers.length) return;
    await applyLayers(this.options.store, state.label, state.layers, state.config.rootfs.diff_ids, writer, { first: applied });
    state.rootfs.applied = state.layers.length;
  }

  private scratchPath(kind: string): string {
    return path.join(this.work, `${kind}-${++this.counter}`);
  }

  private scratchDir(kind: string): string {
    const dir = this.scratchPath(kind);
    fs.mkdirSync(dir, { mode: 0o700 });
    return dir;
  }

  // ------------------------------------------------------------ the image

  private writeImage(state: StageState): Descriptor {
    const { store } = this.options;
    const config: BuildConfig = { ...state.config, created: this.now() };
    const configData = Buffer.from(JSON.stringify(config));
    const configDigest = store.putBlob(configData);
    const manifest: ImageManifest = {
      schemaVersion: 2,
      mediaType: OCI_MANIFEST,
      config: { mediaType: OCI_CONFIG, digest: configDigest, size: configData.length },
      layers: state.layers,
    };
    const manifestData = Buffer.from(JSON.stringify(manifest));
    const digest = store.putBlob(manifestData);
    return { mediaType: OCI_MANIFEST, digest, size: manifestData.length };
  }
}

/** --chown=user[:group]: names from the image's /etc/passwd and /etc/group; a lone user is also the group, as in Docker. */
function chownOwner(root: string, text: string): Owner {
  const [user, group] = text.split(':', 2);
  if (user === '') throw new OcitsError(`--chown=${text}: no user`);
  const uid = /^\d+$/.test(user) ? Number(user) : lookupId(root, '/etc/passwd', user, 'user');
  const gid = group === undefined ? uid : /^\d+$/.test(group) ? Number(group) : lookupId(root, '/etc/group', group, 'group');
  return { uid, gid };
}

function lookupId(root: string, file: string, name: string, what: string): number {
  const resolved = resolveInRoot(root, file);
  const text = resolved !== undefined ? fs.readFileSync(resolved, 'utf8') : '';
  for (const line of text.split('\n')) {
    const fields = line.split(':');
    if (fields[0] === name && fields.length >= 3 && /^\d+$/.test(fields[2])) return Number(fields[2]);
  }
  throw new OcitsError(`--chown: the ${what} "${name}" is not in the image's ${file}`);
}

/** The mount points (and their parents) the runtime will have to make in the overlay: they must not end up in the layer. */
function missingMountpoints(merged: string, destinations: readonly string[]): string[] {
  const missing = new Set<string>();
  for (const destination of destinations) {
    const parts = destination.split('/').filter((part) => part !== '');
    for (let length = 1; length <= parts.length; length++) {
      const relative = parts.slice(0, length).join('/');
      if (!exists(path.join(merged, relative))) missing.add(relative);
    }
  }
  return [...missing].sort((a, b) => b.length - a.length);
}

/** Removes, deepest first, the mount points the runtime made, if they are still empty. */
function removeMountpoints(upper: string, relatives: readonly string[]): void {
  for (const relative of relatives) {
    const full = path.join(upper, relative);
    let status: fs.Stats;
    try {
      status = fs.lstatSync(full);
    } catch {
      continue;
    }
    try {
      if (status.isDirectory()) fs.rmdirSync(full);
      else if (status.isFile() && status.size === 0) fs.unlinkSync(full);
    } catch (error) {
      // A step that put files in a mount point's directory keeps it.
      if (!isErrno(error, 'ENOTEMPTY') && !isErrno(error, 'EEXIST')) throw error;
    }
  }
}

/**
 * Removes from the upper directory the directories a step only touched:
 * empty, not opaque, and a directory with the same mode and owner below.
 * Making and removing a mount point changes its parent's mtime, and that
 * alone (an /etc/ in every RUN layer) is no change worth a layer entry.
 */
function pruneUnchangedDirectories(upper: string, lower: string, xattrs: Map<string, Map<string, Buffer>>, relative = ''): boolean {
  const dir = relative === '' ? upper : path.join(upper, relative);
  let empty = true;
  for (const entry of fs.readdirSync(dir, { withFileTypes: true })) {
    const childRelative = relative === '' ? entry.name : `${relative}/${entry.name}`;
    if (!entry.isDirectory() || !pruneUnchangedDirectories(upper, lower, xattrs, childRelative)) empty = false;
  }
  if (relative === '' || !empty || xattrs.get(dir)?.get('trusted.overlay.opaque')?.toString() === 'y') return false;
  let below: fs.Stats;
  try {
    below = fs.lstatSync(path.join(lower, relative));
  } catch {
    return false;
  }
  const here = fs.lstatSync(dir);
  if (!below.isDirectory() || below.mode !== here.mode || below.uid !== here.uid || below.gid !== here.gid) return false;
  fs.rmdirSync(dir);
  return true;
}

function exists(file: string): boolean {
  try {
    fs.lstatSync(file);
    return true;
  } catch {
    return false;
  }
}
