// A separate process that hammers the state store, for the concurrency
// tests: it increments a counter kept in the record's annotations, under the
// container lock, `rounds` times.
import { StateStore } from '../../src/lifecycle/store';

const [root, id, rounds] = process.argv.slice(2);
const store = new StateStore(root);
for (let i = 0; i < Number(rounds); i++) {
  store.withLock(id, () => {
    const record = store.read(id);
    const count = Number(record.annotations?.count ?? '0');
    store.write({ ...record, annotations: { count: String(count + 1) } });
  });
}
