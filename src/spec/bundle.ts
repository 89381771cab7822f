// A bundle is a directory holding config.json and, usually, the root
// filesystem. This module reads and checks its config; `validate` reports the
// problems and `create` refuses a bundle that has any errors (loadConfig).
import * as path from 'node:path';
import { OcitsError, quoted } from '../errors';
import { readJsonFile } from './json';
import { formatProblem, type Problem } from './problems';
import { schemaProblems } from './schema';
import { semanticProblems } from './semantic';
import type { RuntimeConfig } from './types';
import { OCI_VERSION } from './version';

export const CONFIG_FILE = 'config.json';

export interface BundleCheck {
  /** Absolute path of the bundle directory. */
  bundleDir: string;
  config: RuntimeConfig;
  problems: Problem[];
}

/**
 * Reads <bundle>/config.json and checks it. Unreadable or malformed JSON
 * throws (there is nothing to check); every other problem is returned,
 * schema problems first.
 */
export function checkBundle(bundle: string): BundleCheck {
  const bundleDir = path.resolve(bundle);
  const config = readJsonFile(path.join(bundleDir, CONFIG_FILE), quoted(path.join(bundle, CONFIG_FILE)));
  const structural = schemaProblems('config', config);
  const semantic = semanticProblems(config as RuntimeConfig, bundleDir, structural);
  return { bundleDir, config: config as RuntimeConfig, problems: [...structural, ...semantic] };
}

/** The bundle's config, once it has no errors; else the first, as one line. */
export function loadConfig(bundle: string): { bundleDir: string; config: RuntimeConfig } {
  const { bundleDir, config, problems } = checkBundle(bundle);
  const errors = problems.filter((problem) => problem.severity === 'error');
  if (errors.length > 0) {
    const more = errors.length > 1 ? ` (and ${errors.length - 1} more; see ocits validate)` : '';
    throw new OcitsError(`invalid config.json: ${formatProblem(errors[0])}${more}`);
  }
  return { bundleDir, config };
}

/**
 * The errors of a LinuxResources document given on its own (update
 * --resources), checked as /linux/resources of a config so the same bounds
 * apply; pointers are relative to the document.
 */
export function resourcesProblems(resources: unknown): Problem[] {
  const at = '/linux/resources';
  const config = { ociVersion: OCI_VERSION, root: { path: '/' }, linux: { resources } };
  const structural = schemaProblems('config', config);
  return [...structural, ...semanticProblems(config as RuntimeConfig, '/', structural)]
    .filter((problem) => problem.severity === 'error' && problem.pointer.startsWith(at))
    .map((problem) => ({ ...problem, pointer: problem.pointer.slice(at.length) }));
}
