import { setFlagsFromString } from 'node:v8';
import { runInNewContext } from 'node:vm';

/**
 * A full garbage collection on demand, in a test process started without --expose-gc: the flag
 * set at run time exposes `gc` to contexts created after it.
 */
setFlagsFromString('--expose-gc');
const collect = runInNewContext('gc') as () => void;

/** Whether what `ref` points to was collected, after the current job ended (WeakRef keeps a target alive until then). */
export async function collected(ref: WeakRef<object>): Promise<boolean> {
  await new Promise((resolve) => setTimeout(resolve, 0));
  collect();
  return ref.deref() === undefined;
}
