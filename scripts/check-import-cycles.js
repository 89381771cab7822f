#!/usr/bin/env node
// Fails when the TypeScript files under a directory (default src/) import one
// another in a cycle, type-only imports included: a cycle means two modules
// are one concern split in two, or a layer that calls back up. Prints each
// cycle as a chain of paths. Usage: node scripts/check-import-cycles.js [DIR]
'use strict';
const fs = require('node:fs');
const path = require('node:path');

// import/export ... from '...', a bare import '...', require('...') and import('...').
const IMPORT = /(?:^|\n)\s*(?:import|export)\s[^;]*?\sfrom\s+'([^']+)'|\b(?:require|import)\(\s*'([^']+)'\s*\)|(?:^|\n)\s*import\s+'([^']+)'/g;

function sourceFiles(dir) {
  return fs.readdirSync(dir, { withFileTypes: true }).flatMap((entry) => {
    const file = path.join(dir, entry.name);
    if (entry.isDirectory()) return sourceFiles(file);
    return entry.name.endsWith('.ts') && !entry.name.endsWith('.d.ts') ? [file] : [];
  });
}

function resolveImport(from, specifier, known) {
  if (!specifier.startsWith('.')) return undefined;
  const base = path.resolve(path.dirname(from), specifier);
  return [`${base}.ts`, path.join(base, 'index.ts')].find((candidate) => known.has(candidate));
}

/** The import graph: file -> files it imports. */
function importGraph(dir) {
  const files = sourceFiles(path.resolve(dir));
  const known = new Set(files);
  const graph = new Map();
  for (const file of files) {
    const text = fs.readFileSync(file, 'utf8');
    const targets = new Set();
    for (const match of text.matchAll(IMPORT)) {
      const target = resolveImport(file, match[1] ?? match[2] ?? match[3], known);
      if (target !== undefined) targets.add(target);
    }
    graph.set(file, [...targets].sort());
  }
  return graph;
}

/** Strongly connected components of more than one file, or a file importing itself (Tarjan). */
function cycles(graph) {
  let counter = 0;
  const index = new Map();
  const low = new Map();
  const stack = [];
  const onStack = new Set();
  const found = [];
  const visit = (file) => {
    index.set(file, counter);
    low.set(file, counter);
    counter++;
    stack.push(file);
    onStack.add(file);
    for (const next of graph.get(file)) {
      if (!index.has(next)) {
        visit(next);
        low.set(file, Math.min(low.get(file), low.get(next)));
      } else if (onStack.has(next)) {
        low.set(file, Math.min(low.get(file), index.get(next)));
      }
    }
    if (low.get(file) !== index.get(file)) return;
    const component = [];
    let member;
    do {
      member = stack.pop();
      onStack.delete(member);
      component.push(member);
    } while (member !== file);
    if (component.length > 1 || graph.get(file).includes(file)) found.push(component.sort());
  };
  for (const file of graph.keys()) if (!index.has(file)) visit(file);
  return found;
}

/** One concrete chain through a component, for the message: a -> b -> ... -> a. */
function chainThrough(component, graph) {
  const members = new Set(component);
  const start = component[0];
  const previous = new Map([[start, undefined]]);
  const queue = [start];
  while (queue.length > 0) {
    const file = queue.shift();
    for (const next of graph.get(file)) {
      if (next === start) {
        const chain = [start];
        for (let at = file; at !== start; at = previous.get(at)) chain.splice(1, 0, at);
        return [...chain, start];
      }
      if (members.has(next) && !previous.has(next)) {
        previous.set(next, file);
        queue.push(next);
      }
    }
  }
  return component;
}

function main() {
  const dir = process.argv[2] ?? path.join(__dirname, '..', 'src');
  const graph = importGraph(dir);
  const found = cycles(graph);
  const relative = (file) => path.relative(process.cwd(), file);
  for (const component of found) {
    console.error(`import cycle among ${component.length} files: ${chainThrough(component, graph).map(relative).join(' -> ')}`);
  }
  if (found.length > 0) process.exit(1);
  console.log(`no import cycles among ${graph.size} files in ${relative(dir) || '.'}`);
}

module.exports = { importGraph, cycles };
if (require.main === module) main();
