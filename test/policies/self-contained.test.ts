import { strict as assert } from "assert";
import * as fs from "fs";
import * as path from "path";
import { controlPlaneLogTypes as programLogTypes } from "../../infra/cluster/contract";
import { kubernetesVersions, minorOf as programMinorOf } from "../../infra/config/kubernetes-versions";
import { controlPlaneLogTypes, eksKubernetesVersions, minorOf } from "../../policies/lib/eks-facts";

const policiesDir = path.join(__dirname, "..", "..", "policies");

/** Every TypeScript file of the pack, relative to policies/. */
function packFiles(dir = policiesDir): string[] {
  return fs.readdirSync(dir, { withFileTypes: true }).flatMap((entry) => {
    const full = path.join(dir, entry.name);
    if (entry.isDirectory()) return entry.name === "node_modules" ? [] : packFiles(full);
    return entry.name.endsWith(".ts") ? [full] : [];
  });
}

describe("policies: a pack that stands on its own", () => {
  it("imports nothing from outside policies/ (relative specifiers stay inside; packages are its own dependencies)", () => {
    const manifest = JSON.parse(fs.readFileSync(path.join(policiesDir, "package.json"), "utf8")) as {
      dependencies?: Record<string, string>;
    };
    const declared = Object.keys(manifest.dependencies ?? {});
    const builtins = new Set(["fs", "path", "os", "crypto", "util", "child_process"]);
    for (const file of packFiles()) {
      const text = fs.readFileSync(file, "utf8");
      for (const match of text.matchAll(/(?:import|export)[^;]*?from\s+"([^"]+)"|require\("([^"]+)"\)/g)) {
        const specifier = match[1] ?? match[2];
        const where = `${path.relative(policiesDir, file)} imports "${specifier}"`;
        if (specifier.startsWith(".")) {
          const target = path.resolve(path.dirname(file), specifier);
          assert.ok(target.startsWith(policiesDir + path.sep), `${where}, outside policies/`);
          continue;
        }
        const packageName = specifier.startsWith("@")
          ? specifier.split("/").slice(0, 2).join("/")
          : specifier.split("/")[0];
        assert.ok(
          builtins.has(packageName.replace(/^node:/, "")) || declared.includes(packageName),
          `${where}, which policies/package.json does not declare`,
        );
      }
    }
  });

  it("keeps its copy of the EKS version table in agreement with infra/config/kubernetes-versions.ts", () => {
    assert.deepEqual(
      [...eksKubernetesVersions],
      kubernetesVersions.map((entry) => entry.version),
    );
    for (const version of ["1.36", "1.9", "2.0", "latest", "1.36.1"]) {
      assert.equal(minorOf(version), programMinorOf(version), version);
    }
  });

  it("keeps its copy of the control-plane log types in agreement with infra/cluster/contract.ts", () => {
    assert.deepEqual([...controlPlaneLogTypes], [...programLogTypes]);
  });
});
