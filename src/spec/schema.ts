// Schema validation with validators that scripts/build.js compiled ahead of
// time (ajv standalone), so no schema is compiled while a command runs.
import * as validators from '../../generated/validators';
import { pointer, type Problem } from './problems';

export type SchemaName = 'config' | 'state' | 'features' | 'imageManifest' | 'imageIndex';

interface AjvError {
  instancePath: string;
  keyword: string;
  params: Record<string, unknown>;
  message?: string;
}

interface CompiledValidator {
  (document: unknown): boolean;
  errors?: AjvError[] | null;
}

const VALIDATORS: Record<SchemaName, CompiledValidator> = {
  config: validators.validateConfig as CompiledValidator,
  state: validators.validateState as CompiledValidator,
  features: validators.validateFeatures as CompiledValidator,
  imageManifest: validators.validateImageManifest as CompiledValidator,
  imageIndex: validators.validateImageIndex as CompiledValidator,
};

// Summaries of sub-schema failures; the failures themselves are reported.
const SUMMARY_KEYWORDS = new Set(['if', 'anyOf', 'oneOf', 'allOf', 'propertyNames']);

// What the schemas' patterns mean, in words; an unlisted pattern is quoted.
const PATTERN_MEANINGS: Record<string, string> = {
  '^/': 'must be an absolute path',
  '^[1-9][0-9]*[KMG]B$': 'must be a page size such as 2MB or 1GB',
  '^[rwm]*$': 'must be made of the letters r, w and m',
  '^([0-9]+(-[0-9]+)?(,[0-9]+(-[0-9]+)?)*)?$': 'must be a list such as 0-3,5',
};
const NO_ID = 0xffffffff;
const SEMVER_PATTERN_START = '^(0|[1-9][0-9]*)\\.';

export function schemaProblems(schema: SchemaName, document: unknown): Problem[] {
  const validate = VALIDATORS[schema];
  if (validate(document)) return [];
  const errors = validate.errors ?? [];
  const detailed = errors.filter((e) => !SUMMARY_KEYWORDS.has(e.keyword));
  const seen = new Set<string>();
  const problems: Problem[] = [];
  for (const error of detailed.length > 0 ? detailed : errors) {
    const problem = describe(error, document);
    const key = `${problem.pointer}\0${problem.message}`;
    if (seen.has(key)) continue;
    seen.add(key);
    problems.push(problem);
  }
  return problems;
}

function describe(error: AjvError, document: unknown): Problem {
  const { instancePath, keyword, params } = error;
  if (keyword === 'required') {
    const field = String(params.missingProperty);
    return { pointer: instancePath + pointer(field), message: 'is required', severity: 'error', breaksShape: true };
  }
  let message = error.message ?? `fails ${keyword}`;
  if (keyword === 'pattern') message = patternMeaning(String(params.pattern)) ?? message;
  const key = (error as { propertyName?: string }).propertyName;
  if (key !== undefined) message = `key ${JSON.stringify(key)} ${message}`;
  if (keyword === 'enum') message = `must be one of ${(params.allowedValues as unknown[]).map((v) => JSON.stringify(v)).join(', ')}`;
  if (keyword === 'type' && params.type === 'object') message = 'must be an object';
  if (keyword === 'type' && params.type === 'array') message = 'must be an array';
  if (keyword === 'minItems') message = `must have at least ${plural(Number(params.limit), 'entry', 'entries')}`;
  if (keyword === 'minLength') message = params.limit === 1 ? 'must not be empty' : `must be at least ${params.limit} characters long`;
  // (uid_t)-1: setresuid(2), setgroups(2) and chown(2) read it as "leave unchanged".
  if (keyword === 'maximum' && params.limit === NO_ID - 1) message = `must be at most ${NO_ID - 1} (${NO_ID} is -1 to the kernel: "leave unchanged")`;
  const value = valueAt(document, instancePath);
  if (value !== undefined && typeof value !== 'object') message += `, not ${truncate(JSON.stringify(value))}`;
  return { pointer: instancePath, message, severity: 'error', breaksShape: keyword === 'type' };
}

function plural(count: number, one: string, many: string): string {
  return `${count} ${count === 1 ? one : many}`;
}

function patternMeaning(pattern: string): string | undefined {
  if (pattern.startsWith(SEMVER_PATTERN_START)) return 'must be a SemVer 2.0.0 version such as 1.3.0';
  return PATTERN_MEANINGS[pattern];
}

function valueAt(document: unknown, path: string): unknown {
  if (path === '') return document;
  let node: unknown = document;
  for (const raw of path.slice(1).split('/')) {
    const key = raw.replace(/~1/g, '/').replace(/~0/g, '~');
    if (node === null || typeof node !== 'object') return undefined;
    node = (node as Record<string, unknown>)[key];
  }
  return node;
}

function truncate(text: string): string {
  return text.length > 60 ? `${text.slice(0, 57)}...` : text;
}
