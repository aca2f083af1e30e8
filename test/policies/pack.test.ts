import { strict as assert } from "assert";
import * as fs from "fs";
import * as path from "path";
import { policies, policyPackName } from "../../policies/pack";

const root = path.join(__dirname, "..", "..");
const policiesDir = path.join(root, "policies");
const levels = ["advisory", "mandatory", "remediate", "disabled"];

describe("policies: the pack", () => {
  it("gives every policy a unique name, a how-to-fix description and an explicit level", () => {
    const names = policies.map((policy) => policy.name);
    assert.equal(new Set(names).size, names.length);
    for (const policy of policies) {
      assert.match(policy.name, /^[a-z0-9-]+$/, policy.name);
      assert.notEqual(policy.name, "all");
      assert.ok(["advisory", "mandatory"].includes(policy.enforcementLevel ?? ""), policy.name);
      assert.ok(policy.description.length > 40 && !policy.description.includes("\n"), policy.name);
    }
  });

  it("covers every mistake the issue lists", () => {
    const names = new Set(policies.map((policy) => policy.name));
    for (const required of [
      "pack-settings",
      "eks-endpoint-private",
      "eks-secrets-encryption",
      "kms-key-rotation",
      "kms-deletion-window",
      "eks-control-plane-logging",
      "eks-cluster-log-group",
      "eks-access-entries-only",
      "eks-no-creator-admin",
      "eks-no-aws-auth-configmap",
      "eks-no-irsa-oidc-provider",
      "eks-no-irsa-annotations",
      "eks-version-supported",
      "eks-version-upgrade-due",
      "eks-standard-support",
      "vpc-pod-subnet-size",
      "vpc-private-subnet-no-public-ip",
      "eks-multi-az",
      "eks-auto-mode-consistent",
      "eks-auto-mode-no-redundant-addons",
      "sg-no-public-ingress",
      "sg-open-egress",
      "eks-fargate-namespaces",
      "helm-release-pinned",
      "argocd-source-pinned",
      "dev-expiry-tag",
      "dev-single-nat",
      "prod-deletion-protection",
      "prod-nat-per-az",
      "eks-access-admin-scoped",
      "iam-no-admin-access",
      "iam-trust-policy-scoped",
      "kms-key-policy-no-wildcard",
      "log-group-kms",
      "vpc-flow-logs",
      "k8s-no-plaintext-secret",
      "k8s-storageclass-encrypted",
      "argocd-server-private",
      "eks-node-no-ssh",
      "ec2-imdsv2-required",
    ]) {
      assert.ok(names.has(required), required);
    }
  });

  it("ships per-stack config files the CLI accepts: known policies, schema properties of the right type", () => {
    const files = fs.readdirSync(path.join(policiesDir, "config")).filter((file) => file.endsWith(".json"));
    // Every sample stack (Pulumi.<stack>.yaml) has its pack config, which names its environment.
    const stacks = fs
      .readdirSync(root)
      .map((file) => /^Pulumi\.([A-Za-z0-9_.-]+)\.yaml$/.exec(file)?.[1])
      .filter((stack): stack is string => stack !== undefined);
    for (const stack of stacks) assert.ok(files.includes(`${stack}.json`), `policies/config/${stack}.json`);
    const byName = new Map(policies.map((policy) => [policy.name, policy]));
    for (const file of files) {
      const config = JSON.parse(fs.readFileSync(path.join(policiesDir, "config", file), "utf8")) as Record<
        string,
        unknown
      >;
      const settings = config["pack-settings"] as { environment?: string } | undefined;
      assert.ok(
        ["dev", "staging", "prod"].includes(settings?.environment ?? ""),
        `${file}: pack-settings.environment`,
      );
      for (const [name, value] of Object.entries(config)) {
        if (name === "all") {
          assert.ok(levels.includes(value as string), `${file}: all`);
          continue;
        }
        const policy = byName.get(name);
        assert.ok(policy, `${file}: ${name} is not a policy of this pack`);
        if (typeof value === "string") {
          assert.ok(levels.includes(value), `${file}: ${name}`);
          continue;
        }
        for (const [key, setting] of Object.entries(value as Record<string, unknown>)) {
          if (key === "enforcementLevel") {
            assert.ok(levels.includes(setting as string), `${file}: ${name}.${key}`);
            continue;
          }
          const schema = policy.configSchema?.properties[key] as
            { type?: string; enum?: unknown[] } | undefined;
          assert.ok(schema, `${file}: ${name}.${key} is not in the policy's configSchema`);
          const actual = Array.isArray(setting)
            ? "array"
            : Number.isInteger(setting)
              ? "integer"
              : typeof setting;
          assert.equal(actual, schema.type, `${file}: ${name}.${key}`);
          if (schema.enum) assert.ok(schema.enum.includes(setting), `${file}: ${name}.${key}`);
        }
      }
    }
  });

  it("declares itself to the CLI: PulumiPolicy.yaml (nodejs) and a versioned package.json whose main is index.ts", () => {
    assert.match(fs.readFileSync(path.join(policiesDir, "PulumiPolicy.yaml"), "utf8"), /^runtime: nodejs$/m);
    const manifest = JSON.parse(fs.readFileSync(path.join(policiesDir, "package.json"), "utf8")) as {
      version: string;
      main: string;
      name: string;
    };
    assert.match(manifest.version, /^\d+\.\d+\.\d+$/);
    assert.equal(manifest.main, "index.ts");
    assert.equal(manifest.name, policyPackName);
  });
});

describe("policies: docs/policies.md", () => {
  const docs = fs.readFileSync(path.join(root, "docs", "policies.md"), "utf8");
  const section = (heading: string) => {
    const start = docs.indexOf(heading);
    assert.ok(start >= 0, heading);
    const end = docs.indexOf("\n## ", start + heading.length);
    return docs.slice(start, end < 0 ? undefined : end);
  };
  const tableNames = (text: string) =>
    [...text.matchAll(/^\| `([a-z0-9-]+)` +\|/gm)].map((match) => match[1]);

  it("describes every policy of the pack, once, in the policies table", () => {
    assert.deepEqual(
      tableNames(section("## The policies")).sort(),
      policies.map((policy) => policy.name).sort(),
    );
  });

  it("maps every policy to Checkov and Trivy check ids (or says none), marking the rules only this pack has", () => {
    const rows = [
      ...section("## Comparable checks in Checkov and Trivy").matchAll(
        /^\| `([a-z0-9-]+)` +\|([^|]*)\|([^|]*)\|([^|]*)\|$/gm,
      ),
    ];
    assert.deepEqual(rows.map((row) => row[1]).sort(), policies.map((policy) => policy.name).sort());
    for (const [, name, checkov, trivy, notes] of rows) {
      assert.match(
        checkov.trim(),
        /^(none|n\/a|CKV2?_AWS_\d+(, CKV2?_AWS_\d+)*( \(.*\))?)$/,
        `${name}: Checkov ${checkov}`,
      );
      assert.match(
        trivy.trim(),
        /^(none|n\/a|AVD-(AWS|KSV)-\d{4}(, AVD-AWS-\d{4})*( \(.*\))?)$/,
        `${name}: Trivy ${trivy}`,
      );
      const neither = checkov.trim() === "none" && trivy.trim() === "none";
      assert.equal(
        notes.includes("**only here**"),
        neither,
        `${name}: "only here" exactly when neither has one`,
      );
    }
  });
});
