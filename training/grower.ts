import { availableParallelism } from 'node:os';
import { Worker } from 'node:worker_threads';
import { growTree, type GrownTree, type StoppingRules } from './cart.ts';

/** One tree to grow: which rows (repeats allowed: a bootstrap sample), which columns (null: all), which rules. */
export interface GrowJob {
  sample: number[];
  columns: number[] | null;
  rules: StoppingRules;
}

/** The encoded rows and labels every job draws from, in memory the worker threads share. */
export interface GrowerData {
  matrix: Float64Array;
  labels: Int32Array;
  width: number;
  classCount: number;
}

/**
 * Grow one ml-cart tree on a job's rows and columns. Splits refer to the job's columns, so they are
 * mapped back to the full feature vector before the tree is returned.
 */
export function growSampledTree(data: GrowerData, job: GrowJob): GrownTree {
  const columns = job.columns ?? Array.from({ length: data.width }, (_, c) => c);
  const rows = job.sample.map((row) => columns.map((column) => data.matrix[row * data.width + column]!));
  const labels = job.sample.map((row) => data.labels[row]!);
  const grown = growTree(rows, labels, job.rules, { classCount: data.classCount });
  if (job.columns !== null) for (const node of grown.nodes) if (node.split !== undefined) node.split.feature = columns[node.split.feature]!;
  return grown;
}

/** Grows trees, in worker threads when there are several; the answer never depends on how many. */
export interface TreeGrower {
  workers: number;
  /** Grow every job's tree; the result is in job order. */
  grow(jobs: GrowJob[]): Promise<GrownTree[]>;
  /** Stop the worker threads. */
  close(): Promise<void>;
}

/** Worker threads used by default: one per core this process may use. */
export function getDefaultWorkerCount(): number {
  return availableParallelism();
}

interface Reply {
  id: number;
  tree?: GrownTree;
  error?: string;
}

/**
 * Create a grower over `rows` (encoded feature vectors) and their `labels`. With `workers` above 1 it
 * starts that many worker threads on first use, sharing the rows with them, and deals jobs to whichever is
 * free; each tree depends only on its job, so the trees are the same whatever the number or timing.
 */
export function createTreeGrower(rows: number[][], labels: number[], { workers = getDefaultWorkerCount(), classCount = 2 } = {}): TreeGrower {
  const width = rows[0]?.length ?? 0;
  const matrix = new Float64Array(new SharedArrayBuffer(rows.length * width * Float64Array.BYTES_PER_ELEMENT));
  rows.forEach((row, r) => matrix.set(row, r * width));
  const sharedLabels = new Int32Array(new SharedArrayBuffer(labels.length * Int32Array.BYTES_PER_ELEMENT));
  sharedLabels.set(labels);
  const data: GrowerData = { matrix, labels: sharedLabels, width, classCount };
  if (workers <= 1) {
    return { workers: 1, grow: async (jobs) => jobs.map((job) => growSampledTree(data, job)), close: async () => {} };
  }

  let threads: Worker[] | undefined;
  let nextId = 0;
  const pending = new Map<number, { resolve: (tree: GrownTree) => void; reject: (error: Error) => void }>();
  const idle: Worker[] = [];
  const queue: { id: number; job: GrowJob }[] = [];
  const dispatch = () => {
    while (idle.length > 0 && queue.length > 0) idle.pop()!.postMessage(queue.shift()!);
  };
  const start = () => {
    threads = Array.from({ length: workers }, () => {
      const worker = new Worker(new URL('./grower-worker.ts', import.meta.url), { workerData: data });
      worker.on('message', (reply: Reply) => {
        const waiter = pending.get(reply.id)!;
        pending.delete(reply.id);
        if (reply.error !== undefined) waiter.reject(new Error(`growing a tree failed: ${reply.error}`));
        else waiter.resolve(reply.tree!);
        idle.push(worker);
        dispatch();
      });
      worker.on('error', (error) => {
        for (const waiter of pending.values()) waiter.reject(error);
        pending.clear();
      });
      idle.push(worker);
      return worker;
    });
  };
  return {
    workers,
    grow(jobs) {
      if (threads === undefined) start();
      return Promise.all(
        jobs.map(
          (job) =>
            new Promise<GrownTree>((resolve, reject) => {
              const id = nextId++;
              pending.set(id, { resolve, reject });
              queue.push({ id, job });
              dispatch();
            }),
        ),
      );
    },
    async close() {
      await Promise.all((threads ?? []).map((worker) => worker.terminate()));
      threads = undefined;
      idle.length = 0;
    },
  };
}
