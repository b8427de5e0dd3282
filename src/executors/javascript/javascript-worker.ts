import { serveJobs } from "../sandbox/serve-jobs.ts";
import type { JavaScriptJob } from "./javascript-job.ts";
import { runQuickJs } from "./run-quickjs.ts";

/** Granularity of the guest's clock in milliseconds. */
const clockResolutionMs = 100;

// QuickJS reads the wall clock through this thread's Date.now, so rounding it here coarsens
// the guest's Date. Deadlines in this worker use performance.now, which the guest cannot reach.
const preciseNow = Date.now;
Date.now = () => Math.floor(preciseNow() / clockResolutionMs) * clockResolutionMs;

serveJobs(async (job) => ({ result: await runQuickJs(job as JavaScriptJob) }));
