import { strict as assert } from "assert";
import * as fs from "fs";
import * as path from "path";
import { runPolicyPack, type SynthResult } from "../../policies/harness";
import { rules } from "../../policies/pack";
import { isExempt, loweredLevels, settingsProblems, type PackRule } from "../../policies/lib/settings";
import { withSettings } from "./support";

const fixture = (): SynthResult =>
  JSON.parse(
    fs.readFileSync(path.join(__dirname, "..", "fixtures", "policies", "compliant.json"), "utf8"),
  ) as SynthResult;
const albUrn =
  "urn:pulumi:fixture-prod::eks-gitops-platform::aws:ec2/securityGroup:SecurityGroup::public-alb";
const exemption = (overrides: Record<string, unknown> = {}) => ({
  resource: "public-*",
  policy: "sg-no-public-ingress",
  reason: "internet-facing ALB, HTTPS only",
  expires: "2999-12-31",
  ...overrides,
});
const run = (settings: Record<string, unknown>) =>
  runPolicyPack(fixture(), { "pack-settings": { environment: "prod", ...settings } });
/** Policies with violations, in order, each once (the ALB group is open on IPv4 and IPv6: two violations). */
const distinct = (report: ReturnType<typeof runPolicyPack>) => [
  ...new Set(report.violations.map((violation) => violation.policy)),
];
const policiesOf = (settings: Record<string, unknown>) => distinct(run(settings));

describe("policies: pack settings and exemptions (from the stack's pack config only)", () => {
  it("an exemption naming resource (URN or name pattern), policy, reason and a future expiry removes that violation only", () => {
    assert.deepEqual(policiesOf({}), ["sg-no-public-ingress"]);
    assert.deepEqual(policiesOf({ exemptions: [exemption()] }), []);
    assert.deepEqual(policiesOf({ exemptions: [exemption({ resource: albUrn })] }), []);
    assert.deepEqual(policiesOf({ exemptions: [exemption({ resource: "private-*" })] }), [
      "sg-no-public-ingress",
    ]);
    assert.deepEqual(policiesOf({ exemptions: [exemption({ policy: "sg-open-egress" })] }), [
      "sg-no-public-ingress",
    ]);
  });

  it("an expired exemption no longer applies and is itself a mandatory violation naming resource, policy, date and fix", () => {
    const report = run({ exemptions: [exemption({ expires: "2020-01-31" })] });
    assert.deepEqual(distinct(report), ["pack-settings", "sg-no-public-ingress"]);
    assert.equal(report.violations[0].enforcementLevel, "mandatory");
    assert.equal(
      report.violations[0].message,
      "pack-settings.exemptions[0]: the exemption of public-* from sg-no-public-ingress expired on 2020-01-31 (reason given: internet-facing ALB, HTTPS only); fix the resource, or renew the exemption with a new expiry date if the reason still holds.",
    );
  });

  it("an exemption without a reason or expiry, or for a policy the pack does not have, does not apply and is reported", () => {
    const report = run({
      exemptions: [
        exemption({ reason: "" }),
        exemption({ expires: undefined }),
        exemption({ policy: "no-such" }),
      ],
    });
    assert.deepEqual(
      report.violations.slice(0, 4).map((violation) => violation.policy),
      ["pack-settings", "pack-settings", "pack-settings", "sg-no-public-ingress"],
    );
    assert.match(report.violations[0].message, /exemptions\[0\] has no reason; every exemption names/);
    assert.match(
      report.violations[2].message,
      /exemptions\[2\] exempts public-\* from "no-such", which is not a policy/,
    );
  });

  it("a stack without an environment is reported and judged as prod", () => {
    const report = runPolicyPack(fixture(), {});
    assert.equal(report.violations[0].policy, "pack-settings");
    assert.match(report.violations[0].message, /^pack-settings\.environment is not set/);
    assert.deepEqual(settingsProblems({ environment: "dev", exemptions: [] }, []), []);
  });

  it("disabling pack-settings drops every exemption and judges the stack as prod: it can only make the pack stricter", () => {
    const report = runPolicyPack(fixture(), {
      "pack-settings": { enforcementLevel: "disabled", environment: "dev", exemptions: [exemption()] },
    });
    assert.deepEqual(distinct(report), ["sg-no-public-ingress"]);
  });

  it("tags on the checked resource never exempt it", () => {
    const stack = fixture();
    const alb = stack.resources.find((resource) => resource.name === "public-alb");
    (alb?.inputs as { tags: Record<string, string> }).tags = {
      "public-load-balancer": "true",
      exempt: "sg-no-public-ingress",
      environment: "dev",
    };
    assert.deepEqual(distinct(runPolicyPack(stack, { "pack-settings": { environment: "prod" } })), [
      "sg-no-public-ingress",
    ]);
  });

  it("matches exemptions by exact URN or by a glob on the logical name, valid through their expiry day", () => {
    withSettings({ exemptions: [exemption({ expires: "2026-11-28" })] }, () => {
      assert.equal(isExempt("sg-no-public-ingress", albUrn, "2026-11-28"), true);
      assert.equal(isExempt("sg-no-public-ingress", albUrn, "2026-11-29"), false);
      assert.equal(isExempt("sg-no-public-ingress", undefined, "2026-11-28"), false);
      assert.equal(
        isExempt("sg-no-public-ingress", albUrn.replace("public-alb", "internal"), "2026-11-28"),
        false,
      );
    });
  });
});

describe("policies: a stack's pack config cannot lower the rules (enforcementLevel)", () => {
  const configDir = path.join(__dirname, "..", "..", "policies", "config");
  const prod = { "pack-settings": { environment: "prod" } };

  it("no shipped pack config lowers a rule below its level on prod, nor a notExemptibleOn rule anywhere", () => {
    for (const file of fs.readdirSync(configDir).filter((name) => name.endsWith(".json"))) {
      const config = JSON.parse(fs.readFileSync(path.join(configDir, file), "utf8")) as Record<
        string,
        unknown
      >;
      assert.deepEqual(loweredLevels(config, rules), [], file);
    }
  });

  it("on prod a mandatory rule set to advisory or disabled, by its own entry or by all, is reported", () => {
    assert.deepEqual(
      loweredLevels({ ...prod, "eks-endpoint-private": { enforcementLevel: "advisory" } }, rules),
      [
        'eks-endpoint-private is set to "advisory" in this prod stack\'s pack config (its own entry), below its level "mandatory", which no prod stack may lower; remove the override.',
      ],
    );
    assert.equal(loweredLevels({ ...prod, "iam-no-admin-access": "disabled" }, rules).length, 1);
    assert.equal(
      loweredLevels({ ...prod, all: "advisory" }, rules).length,
      rules.filter((rule) => rule.enforcementLevel === "mandatory").length,
    );
    assert.equal(loweredLevels({}, rules).length, 0);
    assert.equal(loweredLevels({ all: "disabled" }, rules).length > 0, true, "no environment counts as prod");
    // raising, or lowering an advisory rule to disabled is not lowering below a mandatory level
    assert.deepEqual(loweredLevels({ ...prod, "sg-open-egress": "mandatory" }, rules), []);
  });

  it("off prod levels may be lowered, except for rules that refuse exemptions there", () => {
    const dev = { "pack-settings": { environment: "dev" } };
    assert.deepEqual(loweredLevels({ ...dev, "eks-endpoint-private": "disabled" }, rules), []);
    const prodOnly = rules.find((rule) => (rule as PackRule).notExemptibleOn?.includes("prod"));
    assert.ok(prodOnly);
    assert.equal(loweredLevels({ ...prod, [prodOnly.name]: "advisory" }, rules).length, 1);
  });
});

describe("policies: exemption patterns must name a resource", () => {
  it("a pattern of wildcards (or almost) exempts nothing and is reported", () => {
    for (const resource of ["*", "**", "?*", "*-*", "a*?"]) {
      assert.deepEqual(
        policiesOf({ exemptions: [exemption({ resource })] }),
        ["pack-settings", "sg-no-public-ingress"],
        resource,
      );
      assert.match(
        run({ exemptions: [exemption({ resource })] }).violations[0].message,
        /needs at least 3 characters besides \* and \?/,
      );
    }
    assert.deepEqual(policiesOf({ exemptions: [exemption({ resource: "pub*" })] }), []);
  });
});
