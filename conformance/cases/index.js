// Every group of cases, in the order they run. A group sets up once (usually
// one container run that records many observations) and its cases each judge
// one requirement of the spec on what was recorded.
'use strict';

const groups = [
  ...require('./lifecycle').groups,
  ...require('./errors').groups,
  ...require('./process').groups,
  ...require('./linux').groups,
  ...require('./security').groups,
  ...require('./hooks').groups,
];

module.exports = { groups };
