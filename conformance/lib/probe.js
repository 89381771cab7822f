// Observations from inside a container: a busybox shell script runs a list of
// named probes and prints each one's output between markers, and the suite
// parses them back. One container run serves many cases.
'use strict';

/**
 * The script for `[name, shell command]` probes. Each prints
 *   @@name / its output (stdout and stderr) / @@=exit status
 */
function probeScript(probes) {
  const lines = ['#!/bin/sh'];
  for (const [name, command] of probes) {
    lines.push(`echo '@@${name}'`, `( ${command} ) 2>&1`, 'echo "@@=$?"');
  }
  return `${lines.join('\n')}\n`;
}

/** Parses probe output into name -> { out, status }. */
function parseProbes(text) {
  const probes = new Map();
  let current;
  for (const line of text.split('\n')) {
    const status = /^@@=(\d+)$/.exec(line);
    if (status && current) {
      current.status = Number(status[1]);
      current.out = current.lines.join('\n');
      current = undefined;
    } else if (line.startsWith('@@') && !line.startsWith('@@=')) {
      current = { lines: [], out: '', status: undefined };
      probes.set(line.slice(2), current);
    } else if (current) {
      current.lines.push(line);
    }
  }
  return probes;
}

/** One probe's result; throws a readable error if the probe never ran. */
function probe(observations, name) {
  const result = observations.get(name);
  if (!result || result.status === undefined) throw new Error(`probe ${name} did not run inside the container`);
  return result;
}

/** The fields of /proc/self/status as a map. */
function parseStatus(text) {
  const fields = new Map();
  for (const line of text.split('\n')) {
    const match = /^([^:]+):\s*(.*)$/.exec(line);
    if (match) fields.set(match[1], match[2]);
  }
  return fields;
}

/** Parses /proc/self/mountinfo into entries keyed by mount point (last wins). */
function parseMountinfo(text) {
  const mounts = [];
  for (const line of text.split('\n')) {
    const [left, right] = line.split(' - ');
    if (!right) continue;
    const fields = left.split(' ');
    const [fstype, source, superOptions] = right.split(' ');
    mounts.push({
      id: fields[0],
      parent: fields[1],
      mountPoint: fields[4].replace(/\\040/g, ' '),
      options: fields[5].split(','),
      optional: fields.slice(6),
      fstype,
      source,
      superOptions: (superOptions || '').split(','),
    });
  }
  return mounts;
}

module.exports = { probeScript, parseProbes, probe, parseStatus, parseMountinfo };
