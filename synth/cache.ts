import { createHash } from "node:crypto";
import { mkdirSync, readdirSync, readFileSync } from "node:fs";
import * as path from "node:path";
import { projectRoot } from "../infra/project";
import { writeAtomically } from "./output";
import type { SynthResult } from "./types";

/**
 * Everything besides a stack's config and references that a program's outputs depend on: the code that runs (the
 * programs, the synth and its mocks), the add-on files the cluster program reads, and the installed packages. A
 * change to any of them changes every cache key. test/synth/cache.test.ts checks that every project module a
 * synth loads lies under one of these paths.
 */
export const programSources = [
  "index.ts",
  "Pulumi.yaml",
  "infra",
  "foundation",
  "synth",
  "addons",
  "package.json",
  "package-lock.json",
  // What npm really installed (npm writes it on every install): node_modules changed without the lockfile.
  "node_modules/.package-lock.json",
];

function filesUnder(entry: string): string[] {
  try {
    return readdirSync(entry, { withFileTypes: true })
      .sort((a, b) => (a.name < b.name ? -1 : a.name > b.name ? 1 : 0))
      .flatMap((child) => {
        const childPath = path.join(entry, child.name);
        if (child.isDirectory()) return filesUnder(childPath);
        return child.isFile() ? [childPath] : [];
      });
  } catch (error) {
    // A file, not a folder (or absent: a checkout without it hashes as such).
    return (error as NodeJS.ErrnoException).code === "ENOTDIR" ? [entry] : [];
  }
}

/** A content hash of `programSources` under `root` (paths and bytes) and the Node version. */
export function sourceFingerprint(root: string = projectRoot): string {
  const hash = createHash("sha256").update(`node ${process.version}\0`);
  for (const source of programSources)
    for (const file of filesUnder(path.join(root, source))) {
      let content: Buffer | undefined;
      try {
        content = readFileSync(file);
      } catch {
        // listed but unreadable: hashed as such
      }
      hash.update(`${path.relative(root, file)}\0${content?.length ?? "unreadable"}\0`);
      if (content) hash.update(content);
    }
  return hash.digest("hex");
}

let fingerprint: string | undefined;

/** The fingerprint of this checkout, computed once per process (the code a process runs does not change). */
function processFingerprint(): string {
  return (fingerprint ??= sourceFingerprint());
}

/** Everything one program run reads: the same inputs give the same resources and outputs. */
export interface ProgramInputs {
  /** Which program: the cluster platform or the foundation. */
  readonly program: "platform" | "foundation";
  readonly project: string;
  readonly stack: string;
  readonly pulumiStack?: string;
  readonly rawConfig: Record<string, unknown>;
  /** Outputs the program's StackReferences read, by reference name. */
  readonly references: Record<string, Record<string, unknown>>;
}

/**
 * The cache key of a program run: a hash of its inputs, of the code and packages that run it, and of the day (UTC):
 * the config checks depend on the date (a Kubernetes version leaving support), so an entry lasts a day at most.
 */
export function programKey(
  inputs: ProgramInputs,
  sources: string = processFingerprint(),
  today: string = new Date().toISOString().slice(0, 10),
): string {
  const { program, project, stack, pulumiStack, rawConfig, references } = inputs;
  return createHash("sha256")
    .update(
      JSON.stringify([sources, today, program, project, stack, pulumiStack ?? null, rawConfig, references]),
    )
    .digest("hex");
}

/**
 * Shared work of one `npm run synth` invocation: each program runs at most once per set of inputs (a stack that
 * is both synthesized and referenced by another, a foundation referenced by several clusters), and with a cache
 * folder the outputs of every run are kept on disk by key, so a later synth whose stack references them (a cluster
 * stack's foundation, a spoke's hub) reads them instead of running that program again. Only outputs are kept:
 * a stack being synthesized always runs its own program.
 */
export class SynthSession {
  private readonly runs = new Map<string, Promise<SynthResult>>();

  /** `cacheDir`: where outputs are kept across invocations (out/.build/outputs); none: this process only. */
  constructor(readonly cacheDir?: string) {}

  /** The result of the run with this key, running it (once) if this session has not. */
  result(key: string, run: () => Promise<SynthResult>): Promise<SynthResult> {
    let result = this.runs.get(key);
    if (!result) {
      result = run();
      this.runs.set(key, result);
      result.then((done) => this.keep(key, done.outputs)).catch(() => undefined);
    }
    return result;
  }

  /** The outputs of the run with this key: from this session, else from the cache folder, else by running it. */
  async outputs(key: string, run: () => Promise<SynthResult>): Promise<Record<string, unknown>> {
    const known = this.runs.get(key);
    if (known) return (await known).outputs;
    return this.kept(key) ?? (await this.result(key, run)).outputs;
  }

  private file(key: string): string | undefined {
    return this.cacheDir && path.join(this.cacheDir, `${key}.json`);
  }

  private kept(key: string): Record<string, unknown> | undefined {
    const file = this.file(key);
    if (!file) return undefined;
    try {
      const entry = JSON.parse(readFileSync(file, "utf8")) as { key?: unknown; outputs?: unknown };
      // A file of another key (copied, renamed) or of another shape is not an answer.
      if (entry.key === key && typeof entry.outputs === "object" && entry.outputs !== null)
        return entry.outputs as Record<string, unknown>;
    } catch {
      // absent or unreadable: run the program
    }
    return undefined;
  }

  private keep(key: string, outputs: Record<string, unknown>): void {
    const file = this.file(key);
    // An entry already there is kept; one of another key or shape (a copied or damaged file) is replaced.
    if (!file || this.kept(key) !== undefined) return;
    try {
      mkdirSync(path.dirname(file), { recursive: true });
      writeAtomically(file, `${JSON.stringify({ key, outputs })}\n`);
    } catch {
      // an unwritable cache only costs speed
    }
  }
}
