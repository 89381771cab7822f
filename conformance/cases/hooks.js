'use strict';
module.exports = { groups: [] };
