import { existsSync, readFileSync } from "node:fs";
import * as path from "node:path";
import { parse } from "yaml";

/** The folder holding Pulumi.yaml, found by walking up from `start` (this module's folder by default). */
export function findProjectRoot(start: string = __dirname): string {
  for (let dir = start; ; dir = path.dirname(dir)) {
    if (existsSync(path.join(dir, "Pulumi.yaml"))) return dir;
    if (path.dirname(dir) === dir) throw new Error(`no Pulumi.yaml above ${start}`);
  }
}

export const projectRoot = findProjectRoot();

/** The project name from Pulumi.yaml text; config keys in stack files are namespaced with it. */
export function projectNameFromYaml(text: string): string {
  const project = parse(text) as { name?: unknown } | null;
  if (!project || typeof project.name !== "string" || project.name.length === 0) {
    throw new Error("Pulumi.yaml has no `name`: the stack config namespace cannot be known");
  }
  return project.name;
}

/** The project name of the checkout at `rootDir`, as the Pulumi CLI reads it. */
export function readProjectName(rootDir: string = projectRoot): string {
  return projectNameFromYaml(readFileSync(path.join(rootDir, "Pulumi.yaml"), "utf8"));
}
