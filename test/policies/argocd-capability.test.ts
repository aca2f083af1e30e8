import { strict as assert } from "assert";
import * as fs from "fs";
import * as path from "path";
import { argocdCapabilityPrivate } from "../../policies/argocd-capability";
import { runPolicyPack, type SynthResult } from "../../policies/harness";
import { settingsProblems } from "../../policies/lib/settings";
import { policies, rules } from "../../policies/pack";
import { UNKNOWN_VALUE, validateResource, withSettings } from "./support";

const capabilityType = "aws:eks/capability:Capability";

function capability(networkAccess?: unknown): Record<string, unknown> {
  return {
    clusterName: "platform",
    capabilityName: "argocd",
    type: "ARGOCD",
    roleArn: "arn:aws:iam::111122223333:role/platform-argocd-capability",
    deletePropagationPolicy: "RETAIN",
    configuration: {
      argoCd: {
        awsIdc: { idcInstanceArn: "arn:aws:sso:::instance/ssoins-1234567890abcdef", idcRegion: "eu-west-1" },
        namespace: "argocd",
        ...(networkAccess === undefined ? {} : { networkAccess }),
      },
    },
  };
}

describe("policies: argocd-capability-private", () => {
  it("is a mandatory rule of the pack", () => {
    assert.ok(policies.some((policy) => policy.name === argocdCapabilityPrivate.name));
    assert.equal(argocdCapabilityPrivate.enforcementLevel, "mandatory");
  });

  it("passes a capability whose networkAccess names a VPC endpoint (known, or unknown during preview)", () => {
    for (const vpceIds of [["vpce-0123456789abcdef0"], [UNKNOWN_VALUE], UNKNOWN_VALUE]) {
      assert.deepEqual(
        withSettings({ environment: "prod" }, () =>
          validateResource(argocdCapabilityPrivate, capabilityType, capability({ vpceIds })),
        ),
        [],
        JSON.stringify(vpceIds),
      );
    }
  });

  it("reports a capability without vpceIds (no networkAccess, or an empty list) on every environment", () => {
    for (const environment of ["prod", "staging", "dev"] as const) {
      for (const networkAccess of [undefined, {}, { vpceIds: [] }, { vpceIds: [""] }]) {
        const messages = withSettings({ environment }, () =>
          validateResource(argocdCapabilityPrivate, capabilityType, capability(networkAccess)),
        );
        assert.equal(messages.length, 1, `${environment} ${JSON.stringify(networkAccess)}`);
        assert.match(messages[0], /no configuration\.argoCd\.networkAccess\.vpceIds/);
        assert.match(messages[0], new RegExp(`this stack is ${environment}`));
        assert.match(messages[0], /com\.amazonaws\.<region>\.eks-capabilities/);
      }
    }
  });

  it("ignores other capability types", () => {
    const ack = { ...capability(), type: "ACK", configuration: undefined };
    assert.deepEqual(
      withSettings({ environment: "prod" }, () =>
        validateResource(argocdCapabilityPrivate, capabilityType, ack),
      ),
      [],
    );
  });

  describe("cannot be exempted on prod (the issue: mandatory on prod)", () => {
    const exemption = {
      resource: "platform-argocd",
      policy: argocdCapabilityPrivate.name,
      reason: "UI reachable from the office while the VPN is set up",
      expires: "2999-12-31",
    };
    /** The compliant fixture plus an Argo CD capability with no networkAccess. */
    const stackWithPublicCapability = (): SynthResult => {
      const stack = JSON.parse(
        fs.readFileSync(path.join(__dirname, "..", "fixtures", "policies", "compliant.json"), "utf8"),
      ) as SynthResult;
      const publicCapability = {
        ...stack.resources[1],
        urn: `urn:pulumi:fixture-prod::eks-gitops-platform::${capabilityType}::platform-argocd`,
        type: capabilityType,
        name: "platform-argocd",
        inputs: capability(),
      };
      return { ...stack, resources: [...stack.resources, publicCapability] };
    };
    const run = (environment: string) =>
      runPolicyPack(stackWithPublicCapability(), {
        "pack-settings": { environment, exemptions: [exemption] },
      })
        .violations.filter((violation) =>
          ["pack-settings", argocdCapabilityPrivate.name].includes(violation.policy),
        )
        .map((violation) => `${violation.policy}: ${violation.message}`);

    it("on prod the exemption is a pack-settings violation and the capability is still reported", () => {
      const violations = run("prod");
      assert.deepEqual(
        violations.map((violation) => violation.split(":")[0]),
        ["pack-settings", argocdCapabilityPrivate.name],
      );
      assert.equal(
        violations[0],
        'pack-settings: pack-settings.exemptions[0] exempts platform-argocd from "argocd-capability-private", which no exemption may cover on prod: the rule is mandatory there. Fix the resource and remove the exemption; it does not apply.',
      );
    });

    it("a stack with no environment is judged as prod here too", () => {
      assert.match(
        settingsProblems({ exemptions: [exemption] }, rules).join("\n"),
        /which no exemption may cover on prod/,
      );
    });

    it("on dev and staging the same exemption applies (dev opts out with a reason and an expiry)", () => {
      for (const environment of ["dev", "staging"]) assert.deepEqual(run(environment), [], environment);
      assert.deepEqual(settingsProblems({ environment: "dev", exemptions: [exemption] }, rules), []);
    });

    it("the marker stays in the pack's own list, not in what CrossGuard is handed", () => {
      assert.deepEqual(
        rules.filter((rule) => "notExemptibleOn" in rule).map((rule) => rule.name),
        [argocdCapabilityPrivate.name],
      );
      assert.ok(policies.every((policy) => !("notExemptibleOn" in policy)));
    });
  });
});
