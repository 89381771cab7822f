// No module of src/ may import itself back, type imports included: the
// check CI runs with every test run (scripts/check-import-cycles.js).
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { REPO } from '../helpers/cli';

// eslint-disable-next-line @typescript-eslint/no-require-imports
const { cycles, importGraph } = require('../../scripts/check-import-cycles.js') as {
  importGraph(dir: string): Map<string, string[]>;
  cycles(graph: Map<string, string[]>): string[][];
};

describe('imports among src/ files', () => {
  it('form no cycle', () => {
    const graph = importGraph(path.join(REPO, 'src'));
    expect(graph.size).toBeGreaterThan(50);
    expect(cycles(graph).map((component) => component.map((file) => path.relative(REPO, file)))).toEqual([]);
  });

  it('are checked for cycles through type imports and re-exports too', () => {
    const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'ocits-cycles-'));
    try {
      fs.mkdirSync(path.join(dir, 'b'));
      fs.writeFileSync(path.join(dir, 'a.ts'), "import type { B } from './b/b';\nexport type A = B[];\n");
      fs.writeFileSync(path.join(dir, 'b', 'b.ts'), "export type { C as B } from './c';\n");
      fs.writeFileSync(path.join(dir, 'b', 'c.ts'), "import { type A } from '../a';\nexport type C = A | string;\n");
      fs.writeFileSync(path.join(dir, 'd.ts'), "import './a';\n");
      const found = cycles(importGraph(dir)).map((component) => component.map((file) => path.relative(dir, file)));
      expect(found).toEqual([['a.ts', 'b/b.ts', 'b/c.ts']]);
    } finally {
      fs.rmSync(dir, { recursive: true, force: true });
    }
  });
});
