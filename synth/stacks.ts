import { existsSync, readdirSync } from "node:fs";
import { join } from "node:path";
import { foundationDir } from "../infra/foundation/contract";

// Pulumi's own rule for stack names (letters, digits, "-", "_", "."), so a stray file never becomes a stack.
const stackFilePattern = /^Pulumi\.([A-Za-z0-9_.-]+)\.ya?ml$/;

/** `Pulumi.dev.yaml` → `dev`; the project file `Pulumi.yaml` and anything else → undefined. */
export function stackNameFromFile(fileName: string): string | undefined {
  return stackFilePattern.exec(fileName)?.[1];
}

/** The stacks of a project: its `Pulumi.<stack>.yaml` files, sorted so every listing is stable. */
export function stackNames(rootDir: string): string[] {
  const names = readdirSync(rootDir)
    .map(stackNameFromFile)
    .filter((stack): stack is string => stack !== undefined);
  return [...new Set(names)].sort();
}

/** Path of a stack's config file (`.yaml`, or `.yml` as Pulumi also accepts). */
export function stackFile(rootDir: string, stack: string): string {
  const yml = join(rootDir, `Pulumi.${stack}.yml`);
  return existsSync(yml) ? yml : join(rootDir, `Pulumi.${stack}.yaml`);
}

/**
 * Sample stacks that are synthesized and tested but not deployed by this repository's pipeline (a fleet needs its
 * own deploy order, docs/gitops.md "Fleet"): copy one to the project root to deploy it.
 */
export const exampleStackDirs = ["examples/fleet"];

/** Example stacks by name → their directory (relative to rootDir). */
export function exampleStacks(rootDir: string): Map<string, string> {
  const stacks = new Map<string, string>();
  for (const dir of exampleStackDirs)
    if (existsSync(join(rootDir, dir)))
      for (const name of stackNames(join(rootDir, dir))) stacks.set(name, dir);
  return stacks;
}

/** A stack's config file at the root, or else among the examples. */
export function anyStackFile(rootDir: string, stack: string): string {
  const root = stackFile(rootDir, stack);
  const example = exampleStacks(rootDir).get(stack);
  return existsSync(root) || example === undefined ? root : stackFile(join(rootDir, example), stack);
}

/** The synth's name of a foundation stack (`foundation/Pulumi.<stack>.yaml`), also its out/ folder. */
export function foundationSynthName(stack: string): string {
  return `foundation-${stack}`;
}

/** The foundation stack behind a synth name, or undefined for a cluster stack. */
export function foundationStackOf(name: string): string | undefined {
  return /^foundation-(.+)$/.exec(name)?.[1];
}

/** The foundation stacks of the checkout at rootDir, as `npm run synth -- --all` lists them. */
export function foundationSynthNames(rootDir: string): string[] {
  const dir = join(rootDir, foundationDir);
  return existsSync(join(dir, "Pulumi.yaml")) ? stackNames(dir).map(foundationSynthName) : [];
}
