// A separate process that tries to claim one container id, for the race
// test: prints "won", or the error that stopped it.
import { messageOf } from '../../src/errors';
import { StateStore } from '../../src/lifecycle/store';

const [root, id] = process.argv.slice(2);
try {
  new StateStore(root).claim(id);
  process.stdout.write('won');
} catch (error) {
  process.stdout.write(messageOf(error));
}
