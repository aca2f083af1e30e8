import { fork } from "node:child_process";
import * as path from "node:path";

/**
 * `npm run synth` over several stacks in parallel processes. Most of a synth's time is loading the SDKs and running
 * each stack's program, one at a time (Pulumi's runtime is process-wide), so the stacks are split into contiguous
 * shares: this process synthesizes the first, a worker process (`synth/run.js` forked, talking over IPC) each other
 * one. Every stack's report (its lines and its failure) travels back whole and is printed in the stacks' order, so
 * the output, the exit code and the files written are those of a serial run; the shares meet only in the
 * content-keyed cache (out/.build/outputs), whose files are written atomically.
 */

/** One line of a stack's report, on the stream it belongs to. */
export interface ReportLine {
  readonly stream: "out" | "err";
  readonly text: string;
}

/** What synthesizing one stack printed, and how the final summary names it if it failed. */
export interface StackReport {
  readonly stack: string;
  readonly lines: readonly ReportLine[];
  readonly failure?: string;
}

/** Where the stacks are read and written: the same in every process of one run. */
export interface SynthPlace {
  /** Folder of the stack files. */
  readonly root: string;
  readonly outDir: string;
  /** The content-keyed outputs cache (synth/cache.ts), if one is usable. */
  readonly cacheDir?: string;
}

/** Synthesizes one stack of a run (the stacks of one process share their work). */
export type StackSynth = (stack: string) => Promise<StackReport>;

/**
 * Loads what synthesizing takes (the SDKs, the policy pack: most of a process's start) and makes a StackSynth for
 * `place`. Called only after the workers are started, so they load alongside this process.
 */
export type LoadStackSynth = () => (place: SynthPlace) => StackSynth;

/** The message a worker receives: its share. */
interface WorkerJob extends SynthPlace {
  readonly stacks: readonly string[];
}

/** Set in a worker's environment (and removed there at once): answer over IPC instead of printing. */
const workerVariable = "SYNTH_WORKER";

/** `stacks` in `jobs` contiguous shares, sizes differing by at most one (fewer shares than jobs if few stacks). */
export function shares(stacks: readonly string[], jobs: number): string[][] {
  const count = Math.max(1, Math.min(jobs, stacks.length));
  const result: string[][] = [];
  let start = 0;
  for (let index = 0; index < count; index++) {
    const size = Math.floor(stacks.length / count) + (index < stacks.length % count ? 1 : 0);
    result.push(stacks.slice(start, start + size));
    start += size;
  }
  return result.filter((share) => share.length > 0);
}

/**
 * The reports of `stacks`, in their order: the first share synthesized here (one at a time, as they are awaited
 * in order), the others by worker processes started at once.
 */
export function synthesizeInShares(
  stacks: readonly string[],
  jobs: number,
  place: SynthPlace,
  load: LoadStackSynth,
): Promise<StackReport>[] {
  const [own, ...others] = shares(stacks, jobs);
  const fromWorkers = others.flatMap((share) => startWorker(share, place));
  const synthStack = load()(place);
  let previous: Promise<unknown> = Promise.resolve();
  const here = own.map((stack) => {
    const report = previous.then(() => synthStack(stack));
    previous = report;
    return report;
  });
  return [...here, ...fromWorkers];
}

/** A worker process for one share: one promise per stack, settled by the worker's report for it. */
function startWorker(stacks: readonly string[], place: SynthPlace): Promise<StackReport>[] {
  const pending = new Map<string, (report: StackReport) => void>();
  const reports = stacks.map((stack) => new Promise<StackReport>((resolve) => pending.set(stack, resolve)));
  const child = fork(path.join(__dirname, "run.js"), [], {
    cwd: process.cwd(),
    env: { ...process.env, [workerVariable]: "1" },
    // The worker's lines come back in its reports; its stray output (a warning) still reaches the terminal.
    stdio: ["ignore", "inherit", "inherit", "ipc"],
  });
  child.on("message", (report: StackReport) => {
    pending.get(report.stack)?.(report);
    pending.delete(report.stack);
  });
  const lost = (reason: string) => {
    for (const [stack, resolve] of pending)
      resolve({
        stack,
        lines: [{ stream: "err", text: `Stack ${stack} failed: the worker process ${reason}\n` }],
        failure: `${stack} (worker ${reason})`,
      });
    pending.clear();
  };
  child.on("error", (error) => lost(`could not run: ${error.message}`));
  child.on("exit", (code, signal) => lost(`exited early (${signal ?? `code ${code}`})`));
  const job: WorkerJob = { ...place, stacks };
  child.send(job);
  return reports;
}

/** True in a worker process; the marker is removed so nothing the worker starts inherits it. */
export function isWorker(): boolean {
  const worker = process.env[workerVariable] === "1" && typeof process.send === "function";
  delete process.env[workerVariable];
  return worker;
}

/** The worker side: loads while its share is on the way, synthesizes it, reports each stack, then exits. */
export function serveShare(load: LoadStackSynth): void {
  // Messages wait in the channel while this loads.
  const makeStackSynth = load();
  process.once("message", (job: WorkerJob) => {
    void (async () => {
      const synthStack = makeStackSynth(job);
      for (const stack of job.stacks) {
        const report = await synthStack(stack);
        await new Promise<void>((resolve) => process.send?.(report, undefined, undefined, () => resolve()));
      }
      process.exit(0);
    })();
  });
}
