// The conformance cases. Each names the spec section it checks and returns
// undefined when the runtime conforms, or a sentence saying how it does not.
// `run(...args)` runs the runtime under test with a private --root.
'use strict';

const cases = [
  {
    section: 'runtime.md#query-state',
    requirement: 'state MUST generate an error if it is not provided the ID of a container',
    check(run) {
      const result = run('state');
      if (result.status === 0) return 'state without an id exited 0';
      return undefined;
    },
  },
  {
    section: 'runtime.md#query-state',
    requirement: 'querying a container that does not exist MUST generate an error',
    check(run) {
      const result = run('state', 'conformance-no-such-container');
      if (result.status === 0) return `state of an unknown id exited 0 and printed ${JSON.stringify(result.stdout)}`;
      return undefined;
    },
  },
];

module.exports = { cases };
