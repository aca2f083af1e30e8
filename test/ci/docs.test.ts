import { strict as assert } from "node:assert";
import { spawnSync } from "node:child_process";
import { readFileSync } from "node:fs";
import * as path from "node:path";
import { loadPackConfig, runPolicyPack } from "../../policies/harness";
import { synthesize } from "../../synth";

/** Commands and examples the docs give a newcomer do what the docs say. */
const root = path.resolve(__dirname, "..", "..");
const read = (file: string) => readFileSync(path.join(root, file), "utf8");

describe("docs: commands and examples", function () {
  this.timeout(120_000);

  it("docs/policies.md's policy-tests command runs the policy tests and nothing else", () => {
    const command = /run `npx mocha ('[^']+')`/.exec(read("docs/policies.md"));
    assert.ok(command, "docs/policies.md names a mocha command");
    const glob = command[1].slice(1, -1);
    const mocha = path.join(root, "node_modules", "mocha", "bin", "mocha.js");
    const result = spawnSync(process.execPath, [mocha, "--dry-run", "--reporter", "json", glob], {
      cwd: root,
      encoding: "utf8",
    });
    const report = JSON.parse(result.stdout) as { tests: { file: string }[] };
    const files = [...new Set(report.tests.map((test) => path.relative(root, test.file)))];
    assert.ok(files.length >= 5, files.join(" "));
    assert.deepEqual(
      files.filter((file) => !file.startsWith("test/policies/")),
      [],
    );
  });

  it("the README's dev public allow-list example passes dev's own policy config", async () => {
    const example = /`publicAccessCidrs: \[([^\]]+)\]`/.exec(read("README.md"));
    assert.ok(example, "the README shows a publicAccessCidrs example");
    const cidrs = example[1].split(",").map((cidr) => cidr.trim());
    const result = await synthesize("dev", { overrides: { cluster: { publicAccessCidrs: cidrs } } });
    const report = runPolicyPack(result, loadPackConfig("dev"));
    assert.deepEqual(
      report.violations.filter((violation) => violation.enforcementLevel === "mandatory"),
      [],
    );
    // The same list in staging is refused by staging's policy config, as the README says.
    const staging = runPolicyPack(result, loadPackConfig("staging"));
    assert.ok(staging.violations.some((violation) => violation.policy === "eks-endpoint-private"));
  });
});
