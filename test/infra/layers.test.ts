import { strict as assert } from "node:assert";
import * as fs from "node:fs";
import * as path from "node:path";

/**
 * Data flows one way: config → key → network → cluster → access → gitops. A module may import its own layer or a
 * lower one, never a higher one. identity/'s IAM building blocks (trust policies, managed-policy tables, Pod
 * Identity roles) import nothing above config, so every layer may use them.
 */
const root = path.resolve(__dirname, "../..");
const rank: Record<string, number> = { config: 0, network: 1, cluster: 2, identity: 3, addons: 4, gitops: 4 };
const iamBuildingBlocks = ["identity/trust-policy", "identity/managed-policies", "identity/pod-identity"];

function infraImports(file: string): string[] {
  const source = fs.readFileSync(file, "utf8");
  return [...source.matchAll(/from "(\.[^"]+)"/g)]
    .map((match) => path.relative(path.join(root, "infra"), path.resolve(path.dirname(file), match[1])))
    .filter((target) => !target.startsWith(".."));
}

describe("infra layering", () => {
  for (const layer of Object.keys(rank)) {
    it(`infra/${layer} imports no higher layer`, () => {
      const dir = path.join(root, "infra", layer);
      for (const name of fs.readdirSync(dir).filter((file) => file.endsWith(".ts"))) {
        for (const target of infraImports(path.join(dir, name))) {
          const targetLayer = target.split(path.sep)[0];
          if (!(targetLayer in rank) || iamBuildingBlocks.includes(target)) continue;
          // Known, older exception: the config schema checks subnet sizes with the network planner's pure maths.
          if (layer === "config" && target === "network/plan") continue;
          assert.ok(
            rank[targetLayer] <= rank[layer],
            `infra/${layer}/${name} imports infra/${target}, a higher layer: move the shared name to its owner`,
          );
        }
      }
    });
  }

  it("the IAM building blocks import nothing above config", () => {
    for (const block of iamBuildingBlocks) {
      for (const target of infraImports(path.join(root, "infra", `${block}.ts`))) {
        const targetLayer = target.split(path.sep)[0];
        assert.ok(
          targetLayer === "config" || iamBuildingBlocks.includes(target),
          `infra/${block} imports infra/${target}`,
        );
      }
    }
  });
});
