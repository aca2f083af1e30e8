import { strict as assert } from "node:assert";
import * as fs from "node:fs";
import * as path from "node:path";

/**
 * Data flows one way: config → key → network → cluster → access → gitops. A module may import its own layer or a
 * lower one, never a higher one. identity/'s IAM building blocks (trust policies, managed-policy tables, Pod
 * Identity roles) import nothing above config, so every layer may use them.
 */
const root = path.resolve(__dirname, "../..");
const rank: Record<string, number> = {
  config: 0,
  network: 1,
  cluster: 2,
  identity: 3,
  addons: 4,
  gitops: 4,
  // The delete-only commands the program declares last: they order the destroy of everything below them.
  teardown: 5,
  fleet: 5,
};
/** Folders the program (index.ts, infra/) never imports: tools that run beside it or on its output. */
const outsideTheProgram = ["synth", "ops", "pipeline", "policies", "test", "bench"];
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
          assert.ok(
            rank[targetLayer] <= rank[layer],
            `infra/${layer}/${name} imports infra/${target}, a higher layer: move the shared name to its owner`,
          );
        }
      }
    });
  }

  it("every infra/ folder has a layer", () => {
    const folders = fs
      .readdirSync(path.join(root, "infra"), { withFileTypes: true })
      .filter((entry) => entry.isDirectory())
      .map((entry) => entry.name);
    const unranked = folders.filter((folder) => !(folder in rank) && folder !== "foundation");
    assert.deepEqual(unranked, [], "give each new infra/ folder a rank in this test");
  });

  it("the program (index.ts, infra/) never imports synth/, ops/, pipeline/ or policies/", () => {
    const files = [
      path.join(root, "index.ts"),
      ...fs
        .readdirSync(path.join(root, "infra"), { recursive: true, encoding: "utf8" })
        .filter((file) => file.endsWith(".ts"))
        .map((file) => path.join(root, "infra", file)),
    ];
    assert.ok(files.length > 20);
    for (const file of files) {
      const source = fs.readFileSync(file, "utf8");
      for (const match of source.matchAll(/(?:from|import|require)\s*\(?\s*"(\.[^"]+)"/g)) {
        const target = path.relative(root, path.resolve(path.dirname(file), match[1]));
        const top = target.split(path.sep)[0];
        assert.ok(
          !outsideTheProgram.includes(top),
          `${path.relative(root, file)} imports ${target}: the program must not depend on ${top}/; move what it needs into infra/ (the owner of the concept) and let ${top}/ import it from there`,
        );
      }
    }
  });

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
