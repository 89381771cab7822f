// The state document: schema/state-schema.json of runtime-spec v1.3.0,
// checked by hand (the suite has no dependencies).
'use strict';
const path = require('node:path');

const STATUSES = ['creating', 'created', 'running', 'stopped'];

/** Problems with a state document, or [] when it adheres to the schema. */
function stateSchemaProblems(state) {
  const problems = [];
  if (typeof state !== 'object' || state === null || Array.isArray(state)) return ['state is not a JSON object'];
  for (const field of ['ociVersion', 'id', 'status', 'bundle']) {
    if (!(field in state)) problems.push(`required field ${field} is missing`);
    else if (typeof state[field] !== 'string') problems.push(`${field} is not a string`);
  }
  if (typeof state.status === 'string' && !STATUSES.includes(state.status)) problems.push(`status ${state.status} is not one of ${STATUSES.join(', ')}`);
  if ('pid' in state && !(Number.isInteger(state.pid) && state.pid >= 0)) problems.push(`pid ${state.pid} is not an integer >= 0`);
  if ('annotations' in state) {
    const annotations = state.annotations;
    if (typeof annotations !== 'object' || annotations === null || Array.isArray(annotations)) problems.push('annotations is not a map');
    else for (const [key, value] of Object.entries(annotations)) if (typeof value !== 'string') problems.push(`annotation ${key} is not a string`);
  }
  return problems;
}

/** Checks the fields a state must have for a container; undefined when right. */
function stateProblem(state, { id, status, bundle }) {
  const problems = stateSchemaProblems(state);
  if (problems.length > 0) return `${problems.join('; ')} in ${JSON.stringify(state)}`;
  if (id !== undefined && state.id !== id) return `id is ${state.id}, expected ${id}`;
  if (status !== undefined && state.status !== status) return `status is ${state.status}, expected ${status}`;
  if (bundle !== undefined && state.bundle !== bundle) return `bundle is ${state.bundle}, expected ${bundle}`;
  if (!path.isAbsolute(state.bundle)) return `bundle ${state.bundle} is not an absolute path`;
  return undefined;
}

module.exports = { stateSchemaProblems, stateProblem };
