// Worker thread of createTreeGrower: grows the trees it is sent, one message per tree.
import { parentPort, workerData } from 'node:worker_threads';
import { growSampledTree, type GrowJob, type GrowerData } from './grower.ts';

const data = workerData as GrowerData;
parentPort!.on('message', ({ id, job }: { id: number; job: GrowJob }) => {
  try {
    parentPort!.postMessage({ id, tree: growSampledTree(data, job) });
  } catch (error) {
    parentPort!.postMessage({ id, error: error instanceof Error ? error.message : String(error) });
  }
});
