import { strict as assert } from "assert";
import * as fs from "fs";
import * as path from "path";
import { runPolicyPack, type SynthResult } from "../../policies/harness";
import { isExempt, settingsProblems } from "../../policies/lib/settings";
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
