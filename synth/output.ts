import { randomBytes } from "node:crypto";
import { renameSync, rmdirSync, rmSync, writeFileSync } from "node:fs";
import * as path from "node:path";

/** Atomic writes of outputs and cache files, and the errors of output that cannot be written. */

/** Temp file in the same folder + rename: a reader sees the previous file or the complete new one, never part. */
export function writeAtomically(file: string, text: string): void {
  const temporary = `${file}.${process.pid}.${randomBytes(4).toString("hex")}.tmp`;
  try {
    writeFileSync(temporary, text);
    renameSync(temporary, file);
  } catch (error) {
    try {
      rmSync(temporary, { force: true });
    } catch {
      // the folder itself is unusable: nothing was written
    }
    throw error;
  }
}

/** Output that cannot be written (permissions, a file where a folder belongs): one line, exit 1. */
export class OutputError extends Error {}

/** Temp file + rename in the same directory: a reader sees the previous file or the complete new one. */
export function writeFileAtomic(file: string, text: string): void {
  try {
    writeAtomically(file, text);
  } catch (error) {
    throw outputError(file, error);
  }
}

/** A file-system error while writing `target`, as one line that names the path and what to do. */
export function outputError(target: string, error: unknown): Error {
  const code = (error as NodeJS.ErrnoException).code;
  const reasons: Record<string, string> = {
    EACCES: "permission denied",
    EPERM: "permission denied",
    EROFS: "read-only file system",
    ENOTDIR: "a file is in the way of a folder",
    EISDIR: "a folder is in the way of the file",
    ENOSPC: "no space left",
  };
  if (!code || !(code in reasons)) return error as Error;
  return new OutputError(
    `cannot write ${path.relative(process.cwd(), target) || target}: ${reasons[code]} (${code}); choose a writable folder with --out <dir>`,
  );
}

/** What a synth writes per stack, in out/<stack>/. */
export const outputFiles = ["resources.json", "policy-report.json"];

/** After a failed synth: the stack's outputs from an earlier run would contradict its config, so they go. */
export function removeStaleOutputs(stackDir: string): string | undefined {
  const removed = outputFiles.filter((name) => {
    try {
      rmSync(path.join(stackDir, name));
      return true;
    } catch {
      return false;
    }
  });
  try {
    rmdirSync(stackDir);
  } catch {
    // not empty (someone else's files) or already gone
  }
  return removed.length > 0 ? `removed the previous ${removed.join(" and ")} (stale)` : undefined;
}
