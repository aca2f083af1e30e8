import { strict as assert } from "node:assert";
import { spawnSync } from "node:child_process";
import { chmodSync, mkdirSync, mkdtempSync, readFileSync, rmSync, symlinkSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import * as path from "node:path";
import { externalTools } from "../support/tools";

/**
 * .ci/run as CI reads it: the tool versions it ran with, then npm test, and as its very last line the plain
 * "N passed, N failed" (skips on a line of their own). npm and the tools are stand-ins on PATH, so nothing is
 * installed and the suite does not run twice; sudo and apt-get refuse, so a missing stand-in fails instead of
 * installing anything. The Node .nvmrc asks for is "already fetched": its cache entry is this test's own Node.
 */
const root = path.resolve(__dirname, "..", "..");

/** Each tool's stand-in prints its version the way the real tool does (what its versionCommand parses). */
const standIns: Record<string, Record<string, string>> = {
  shellcheck: { shellcheck: 'echo "ShellCheck"; echo "version: $V"' },
  yamllint: { yamllint: 'echo "yamllint $V"' },
  jq: { jq: 'echo "jq-$V"' },
  moto_server: { moto_server: "exit 0", pip: '[ "$1 $2" = "show moto" ] && echo "Version: $V"' },
};

function runCi(mochaTail: string, status: number) {
  const bin = mkdtempSync(path.join(tmpdir(), "ci-run-"));
  const script = (name: string, body: string) => {
    writeFileSync(path.join(bin, name), `#!/usr/bin/env bash\n${body}\n`);
    chmodSync(path.join(bin, name), 0o755);
  };
  try {
    for (const tool of externalTools)
      for (const [name, body] of Object.entries(standIns[tool.name] ?? {}))
        script(name, `V=${tool.version}\n${body}`);
    script("sudo", 'echo "stand-in: refusing $*" >&2; exit 99');
    script("apt-get", 'echo "stand-in: refusing $*" >&2; exit 99');
    script(
      "npm",
      [
        'case "$1" in',
        "  --version) echo 10.0.0-stand-in ;;",
        "  ci) echo 'installed (stand-in)' ;;",
        `  test) printf '%s\\n' '  ✔ one' '' ${mochaTail
          .split("\n")
          .map((line) => `'${line}'`)
          .join(" ")}; exit ${status} ;;`,
        "  *) exit 98 ;;",
        "esac",
      ].join("\n"),
    );
    const wanted = readFileSync(path.join(root, ".nvmrc"), "utf8").trim().replace(/^v/, "");
    const nodeBin = path.join(bin, "cache", "eks-gitops-platform", `node-${wanted}`, "package", "bin");
    mkdirSync(nodeBin, { recursive: true });
    symlinkSync(process.execPath, path.join(nodeBin, "node"));
    return spawnSync("bash", [path.join(root, ".ci", "run")], {
      cwd: root,
      encoding: "utf8",
      env: {
        ...process.env,
        PATH: `${bin}${path.delimiter}${process.env.PATH ?? ""}`,
        XDG_CACHE_HOME: path.join(bin, "cache"),
      },
    });
  } finally {
    rmSync(bin, { recursive: true, force: true });
  }
}

describe(".ci/run", function () {
  this.timeout(60_000);

  it("has a stand-in for every tool of test/tools.json", () => {
    assert.deepEqual(Object.keys(standIns).sort(), externalTools.map((tool) => tool.name).sort());
  });

  it("prints the node, npm and tool versions it ran with, and ends with the plain summary line (skips before it)", () => {
    const result = runCi("  12 passing (3s)\n  4 pending", 0);
    assert.equal(result.status, 0, result.stdout + result.stderr);
    assert.match(result.stdout, /^tool versions: node v\d+\.\d+\.\d+, npm 10\.0\.0-stand-in$/m);
    for (const tool of externalTools)
      assert.match(result.stdout, new RegExp(`^  ${tool.name} ${tool.version.replace(/\./g, "\\.")}$`, "m"));
    const lines = result.stdout.trimEnd().split("\n");
    assert.equal(lines.at(-1), "12 passed, 0 failed");
    assert.match(lines.at(-2) ?? "", /^4 skipped\b/);
  });

  it("fails with npm test, still ending with the summary line", () => {
    const result = runCi("  7 passing (3s)\n  2 failing", 1);
    assert.equal(result.status, 1);
    assert.equal(result.stdout.trimEnd().split("\n").at(-1), "7 passed, 2 failed");
  });

  it("fails a run in which no test passed, still ending with the summary line", () => {
    const result = runCi("  0 passing (1ms)", 0);
    assert.equal(result.status, 1);
    assert.equal(result.stdout.trimEnd().split("\n").at(-1), "0 passed, 0 failed");
    assert.match(result.stderr, /no test ran/);
  });
});
