// A Dockerfile cut into its build stages: the ARGs before the first FROM
// (usable in FROM lines), then each FROM with its instructions, its AS
// name, and which other stages it needs (FROM stage, COPY --from=stage,
// RUN --mount=from=stage), so that only the target and what it needs are
// built.
import { OcitsError } from '../errors';
import { errorAt, type Dockerfile, type Instruction } from './dockerfile';
import { argDeclarations, instructionFlags } from './instructions';
import { expandWord, splitWords, type Variables } from './shell-words';

export interface Stage {
  index: number;
  /** The AS name, lower-cased as BuildKit compares them. */
  name?: string;
  from: Instruction;
  /** The base as written (expanded later with the global ARGs). */
  base: string;
  instructions: Instruction[];
}

export interface StagePlan {
  globalArgs: Instruction[];
  stages: Stage[];
}

const STAGE_NAME = /^[a-z][a-z0-9_.-]*$/;

export function planStages(dockerfile: Dockerfile): StagePlan {
  const globalArgs: Instruction[] = [];
  const stages: Stage[] = [];
  for (const instruction of dockerfile.instructions) {
    if (instruction.keyword === 'FROM') {
      const words = splitWords(instruction.args, dockerfile.escape);
      let name: string | undefined;
      if (words.length === 3 && words[1].toLowerCase() === 'as') {
        name = words[2].toLowerCase();
        if (!STAGE_NAME.test(name)) throw errorAt(dockerfile.file, instruction, `invalid stage name "${words[2]}": it must start with a letter and hold only letters, digits, _, . and -`);
        if (stages.some((stage) => stage.name === name)) throw errorAt(dockerfile.file, instruction, `duplicate stage name "${words[2]}"`);
      } else if (words.length !== 1) {
        throw errorAt(dockerfile.file, instruction, 'FROM takes an image and optionally AS name');
      }
      stages.push({ index: stages.length, ...(name !== undefined ? { name } : {}), from: instruction, base: words[0], instructions: [] });
      continue;
    }
    if (stages.length === 0) {
      if (instruction.keyword !== 'ARG') throw errorAt(dockerfile.file, instruction, 'no build stage in current context: the first instruction must be FROM (or ARG)');
      globalArgs.push(instruction);
      continue;
    }
    stages[stages.length - 1].instructions.push(instruction);
  }
  if (stages.length === 0) throw new OcitsError(`${dockerfile.file}: no FROM instruction: the file has no build stage`);
  return { globalArgs, stages };
}

/** The stage --target names (by AS name), or the last one. */
export function targetStage(plan: StagePlan, target: string | undefined): Stage {
  if (target === undefined) return plan.stages[plan.stages.length - 1];
  const stage = plan.stages.find((candidate) => candidate.name === target.toLowerCase());
  if (stage === undefined) throw new OcitsError(`--target ${target}: no stage is named "${target}"`);
  return stage;
}

/** A stage by a name or index used in FROM or --from, among those before index; undefined when it names an image. */
export function findStage(plan: StagePlan, reference: string, before: number): Stage | undefined {
  const lower = reference.toLowerCase();
  const byName = plan.stages.find((stage) => stage.name === lower);
  if (byName !== undefined) return byName.index < before ? byName : undefined;
  if (/^\d+$/.test(reference)) {
    const index = Number(reference);
    if (index >= before) throw new OcitsError(`--from=${reference}: stage ${index} is not before this one`);
    return plan.stages[index];
  }
  return undefined;
}

/** The stages the target needs, itself included, in Dockerfile order. */
export function neededStages(plan: StagePlan, target: Stage, file: string, globals: Variables, escape: '\\' | '`'): Stage[] {
  const needed = new Set<number>();
  const visit = (stage: Stage): void => {
    if (needed.has(stage.index)) return;
    needed.add(stage.index);
    const base = findStage(plan, expandWord(stage.base, globals, escape), stage.index);
    if (base !== undefined) visit(base);
    for (const instruction of stage.instructions) {
      for (const reference of stageReferences(instruction, file)) {
        const dependency = findStage(plan, expandWord(reference, globals, escape), stage.index);
        if (dependency !== undefined) visit(dependency);
      }
    }
  };
  visit(target);
  return plan.stages.filter((stage) => needed.has(stage.index));
}

/** The --from of COPY and of RUN --mount options. */
function stageReferences(instruction: Instruction, file: string): string[] {
  let flags: Map<string, string[]>;
  try {
    flags = instructionFlags(instruction);
  } catch (error) {
    throw errorAt(file, instruction, (error as Error).message);
  }
  const references = [...(flags.get('from') ?? [])];
  for (const mount of flags.get('mount') ?? []) {
    const from = /(?:^|,)from=([^,]+)/.exec(mount);
    if (from !== null) references.push(from[1]);
  }
  return references;
}

/** The names declared by the ARGs before the first FROM. */
export function globalArgNames(plan: StagePlan, escape: '\\' | '`'): string[] {
  return plan.globalArgs.flatMap((instruction) => argDeclarations(instruction, escape).map((declaration) => declaration.name));
}
