// Entry point of every sandbox worker thread. Node 20 does not pass tsx's module hooks on to
// worker threads, so this plain module registers tsx in the worker and then imports the
// TypeScript entry named in `workerData.entry`.
import { workerData } from "node:worker_threads";
import { register } from "tsx/esm/api";

register();
await import(workerData.entry);
