import { strict as assert } from "node:assert";
import { mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import * as path from "node:path";
import { Region } from "@pulumi/aws/types/enums";
import { z } from "zod";
import { ConfigError, resolvePlatformConfig, resolveStackConfig } from "../../infra/config";
import { knownRegions } from "../../infra/config/regions";
import { platformSchema } from "../../infra/config/schema";
import { isRecord } from "../../infra/objects";
import { synthesize } from "../../synth";

/**
 * The stack config under abuse: values a newcomer (or a fuzzer) writes, each refused before any work with one line
 * naming the key, the value and the fix.
 */
const project = "eks-gitops-platform";
const context = { project, stack: "test", region: "eu-west-1" };
const minimal = {
  environment: "dev",
  expiresOn: "2026-12-31",
  access: { admins: ["arn:aws:iam::111122223333:role/platform-admins"] },
};

function problemsOf(raw: Record<string, unknown>, region: unknown = context.region): string[] {
  try {
    resolvePlatformConfig(raw, { ...context, region });
  } catch (error) {
    assert.ok(error instanceof ConfigError, `expected ConfigError, got ${String(error)}`);
    return error.problems.map(
      (problem) => `${problem.key} = ${JSON.stringify(problem.value)}: ${problem.message}`,
    );
  }
  return [];
}

function deepSet(
  target: Record<string, unknown>,
  keys: readonly string[],
  value: unknown,
): Record<string, unknown> {
  const [head, ...rest] = keys;
  const inner = isRecord(target[head]) ? (target[head] as Record<string, unknown>) : {};
  return { ...target, [head]: rest.length === 0 ? value : deepSet(inner, rest, value) };
}

/** Paths of every number in the schema (through defaults, optionals and nested objects). */
function numericKeys(schema: unknown, prefix: string[] = []): string[][] {
  let inner = schema as {
    def: { type: string; innerType?: unknown; in?: unknown };
    shape?: Record<string, unknown>;
  };
  while (inner.def.innerType || inner.def.type === "pipe")
    inner = (inner.def.innerType ?? inner.def.in) as typeof inner;
  if (inner.def.type === "number") return [prefix];
  if (inner.def.type !== "object" || !inner.shape) return [];
  return Object.entries(inner.shape).flatMap(([key, value]) => numericKeys(value, [...prefix, key]));
}

describe("stack config under abuse: numbers", () => {
  const keys = numericKeys(platformSchema);

  it("finds the numeric keys to check", () => {
    for (const key of [
      "network.availabilityZoneCount",
      "cluster.kmsDeletionWindowDays",
      "compute.systemNodeGroup.maxSize",
    ])
      assert.ok(
        keys.some((path) => path.join(".") === key),
        key,
      );
  });

  for (const value of [4294967295, 1e308, 100000000, -1, 2.5]) {
    it(`refuses ${value} in every numeric key with one line for that key and nothing else`, () => {
      for (const key of keys) {
        // Karpenter mode, so the system node group's keys are in use.
        const raw = deepSet({ ...minimal, compute: { mode: "karpenter" } }, key, value);
        const problems = problemsOf(raw);
        assert.equal(problems.length, 1, `${key.join(".")}:\n${problems.join("\n")}`);
        assert.ok(
          problems[0].startsWith(`${project}:${key.join(".")} = ${JSON.stringify(value)}: `),
          problems[0],
        );
        assert.doesNotMatch(problems[0], /Invalid|expected|received/, "zod's own words");
      }
    });
  }

  it("says what to use for 4294967295 AZs (no array of that length is ever built)", () => {
    assert.deepEqual(problemsOf({ ...minimal, network: { availabilityZoneCount: 4294967295 } }), [
      `${project}:network.availabilityZoneCount = 4294967295: at most 6 AZs are supported; use 3`,
    ]);
  });

  it("reads a quoted number as text and says to drop the quotes", () => {
    assert.deepEqual(problemsOf({ ...minimal, network: { availabilityZoneCount: "3" } }), [
      `${project}:network.availabilityZoneCount = "3": must be a number, not the text "3"; remove the quotes: availabilityZoneCount: 3`,
    ]);
  });
});

describe("stack config under abuse: type errors in the project's words", () => {
  const cases: [string, Record<string, unknown>, string][] = [
    [
      "kubernetesVersion: 1.30 (YAML's number 1.3)",
      { cluster: { kubernetesVersion: 1.3 } },
      `${project}:cluster.kubernetesVersion = 1.3: must be text, but YAML read 1.3 as a number (YAML reads 1.30 as the number 1.3); quote it: kubernetesVersion: "1.30"`,
    ],
    [
      "a boolean written in quotes",
      { cluster: { deletionProtection: "true" } },
      `${project}:cluster.deletionProtection = "true": must be true or false without quotes: deletionProtection: true`,
    ],
    [
      "one ARN where a list belongs",
      { access: { admins: "arn:aws:iam::111122223333:role/a" } },
      `${project}:access.admins = "arn:aws:iam::111122223333:role/a": must be a list, not text; write admins: [arn:aws:iam::111122223333:role/a] or one "- item" line per entry`,
    ],
    [
      "an empty value",
      { owner: null },
      `${project}:owner = null: is empty (\`owner:\` with nothing after it); give it a value or delete the line`,
    ],
    [
      "an empty instance type list",
      { compute: { mode: "karpenter", systemNodeGroup: { instanceTypes: [] } } },
      `${project}:compute.systemNodeGroup.instanceTypes = []: list at least one instance type, e.g. [m7g.large]`,
    ],
  ];
  for (const [what, patch, expected] of cases) {
    it(`explains ${what}`, () => assert.deepEqual(problemsOf({ ...minimal, ...patch }), [expected]));
  }
});

describe("stack config under abuse: keys and namespaces", () => {
  const stack = (extra: Record<string, unknown>) => ({
    "aws:region": "eu-west-1",
    [`${project}:environment`]: "dev",
    [`${project}:expiresOn`]: "2026-12-31",
    [`${project}:access`]: minimal.access,
    ...extra,
  });
  const problemsOfStack = (all: Record<string, unknown>): string[] => {
    try {
      resolveStackConfig(all, { project, stack: "test" });
      return [];
    } catch (error) {
      assert.ok(error instanceof ConfigError);
      return error.problems.map((problem) => `${problem.key}: ${problem.message}`);
    }
  };

  it("refuses a misspelt project namespace, suggesting the right key", () => {
    assert.deepEqual(problemsOfStack(stack({ "eks-gitops-platfrom:owner": "team-a" })), [
      'eks-gitops-platfrom:owner: unknown config namespace "eks-gitops-platfrom"; did you mean eks-gitops-platform:owner?',
    ]);
  });

  it("refuses a namespace nobody reads, and accepts the providers' own keys", () => {
    assert.match(problemsOfStack(stack({ "acme:owner": "x" }))[0], /unknown config namespace "acme"/);
    assert.deepEqual(problemsOfStack(stack({ "aws:profile": "admin", "pulumi:tags": { a: "b" } })), []);
  });

  it("suggests the nearest key for a misspelt one, at any depth", () => {
    assert.deepEqual(problemsOf({ ...minimal, netwrok: {}, network: { vpcCdir: "10.0.0.0/16" } }), [
      `${project}:network.vpcCdir = "10.0.0.0/16": unknown config key; did you mean vpcCidr?; the README's config reference lists every key`,
      `${project}:netwrok = {}: unknown config key; did you mean network?; the README's config reference lists every key`,
    ]);
    assert.match(
      problemsOf({ ...minimal, network: { zzz: 1 } })[0],
      /unknown config key \(the keys here: vpcCidr, /,
    );
  });

  it("keeps a quoted top-level value as text when the engine hands it over as a string", async () => {
    const dir = mkdtempSync(path.join(tmpdir(), "config-abuse-"));
    try {
      const file = path.join(dir, "Pulumi.test.yaml");
      writeFileSync(
        file,
        [
          "config:",
          "  aws:region: eu-west-1",
          `  ${project}:environment: dev`,
          `  ${project}:expiresOn: "2026-12-31"`,
          `  ${project}:owner: "42"`,
          // A cluster the sample foundation's dev deploy role owns (environments.dev.clusters).
          `  ${project}:cluster:`,
          "    name: platform-dev",
          `  ${project}:access:`,
          "    admins: [arn:aws:iam::111122223333:role/platform-admins]",
          "",
        ].join("\n"),
      );
      const result = await synthesize("test", { configFile: file });
      assert.equal((result.config as { owner: unknown }).owner, "42");
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });
});

describe("stack config under abuse: AWS limits", () => {
  it("enforces tag key and value lengths, reserved prefixes and the platform's own tags", () => {
    const problems = problemsOf({
      ...minimal,
      tags: {
        ["k".repeat(129)]: "v",
        long: "v".repeat(257),
        "aws:team": "x",
        owner: "y",
        ok: "v".repeat(256),
      },
    });
    assert.deepEqual(
      problems.map((problem) => problem.replace(/ = .*?: /, ": ")),
      [
        `${project}:tags.${"k".repeat(129)}: is longer than AWS's 128-character limit for tag keys`,
        `${project}:tags.long: is longer than AWS's 256-character limit for tag values`,
        `${project}:tags.aws:team: the aws: prefix is reserved for AWS's own tags`,
        `${project}:tags.owner: is set by the platform on every resource (project, stack, environment, owner, managed-by, expires-on); use the matching config key or another tag name`,
      ],
    );
  });

  it("limits the owner (a tag value) and IAM names", () => {
    assert.match(problemsOf({ ...minimal, owner: "o".repeat(257) })[0], /owner = .*256-character limit/);
    assert.match(
      problemsOf({ ...minimal, access: { admins: [`arn:aws:iam::111122223333:role/${"r".repeat(65)}`] } })[0],
      /access\.admins\.0 = .*IAM's 64-character limit/,
    );
  });

  it("checks the region against the partition's known list, with the closest match", () => {
    assert.deepEqual(problemsOf(minimal, "eu-west-9"), [
      `aws:region = "eu-west-9": is not an AWS region known to this project (${knownRegions.length} regions in 8 partitions, from @pulumi/aws); did you mean eu-west-1?`,
    ]);
    assert.match(problemsOf(minimal, "us-esat-1")[0], /did you mean us-east-1\?$/);
    assert.deepEqual(problemsOf(minimal, "cn-north-1"), [
      `${project}:access.admins.0 = "arn:aws:iam::111122223333:role/platform-admins": is in partition aws, but aws:region cn-north-1 is in aws-cn; write it as arn:aws-cn:iam::111122223333:role/platform-admins`,
    ]);
  });

  it("knows exactly the regions the pinned @pulumi/aws knows", () => {
    assert.deepEqual([...knownRegions].sort(), Object.values(Region).sort());
  });

  it("refuses duplicate and overlapping CIDRs in the endpoint allow-lists", () => {
    assert.deepEqual(
      problemsOf({
        ...minimal,
        cluster: {
          privateAccessCidrs: ["10.100.0.0/16", "10.100.0.0/16", "10.100.4.0/24", "192.168.0.0/16"],
          publicAccessCidrs: ["203.0.113.0/24", "203.0.113.10/32"],
        },
      }),
      [
        `${project}:cluster.publicAccessCidrs.1 = "203.0.113.10/32": overlaps item 0 (203.0.113.0/24); list each address range once (keep the wider block or split it)`,
        `${project}:cluster.privateAccessCidrs.1 = "10.100.0.0/16": is listed twice (also item 0); list each range once`,
        `${project}:cluster.privateAccessCidrs.2 = "10.100.4.0/24": overlaps item 0 (10.100.0.0/16); list each address range once (keep the wider block or split it)`,
      ],
    );
  });

  it("stays a zod schema other modules can extend", () => assert.ok(platformSchema instanceof z.ZodType));
});
