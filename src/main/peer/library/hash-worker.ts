import { parentPort } from 'node:worker_threads';
parentPort?.postMessage({ hello: 'from ts worker', typed: 1 as number });
