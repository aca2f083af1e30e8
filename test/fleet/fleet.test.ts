import { strict as assert } from "node:assert";
import type { PlatformConfig } from "../../infra/config";
import { ConfigError, resolvePlatformConfig } from "../../infra/config";
import {
  argoCdFleetServiceAccounts,
  FleetHubOutputs,
  FleetSpokeOutputs,
  hubAccessPolicy,
  sameVpcHubSecurityGroup,
} from "../../infra/fleet";
import { clusterSecretLabels, spokeClusterSecretData } from "../../infra/gitops/cluster-secret";
import { clusterGeneratorParams } from "../../infra/gitops/template";
import { synthesize, SynthResource, SynthResult } from "../../synth";
import { loadValidators, Tree, validateObject, Validators } from "../addons/support";
import { generateFor } from "../gitops/generate";
import { ofType, synthesizedStack } from "../support/stacks";
import { upstreamFact } from "../upstream";
import { applicationSets } from "../addons/support";

/**
 * The sample fleet (examples/fleet/): fleet-hub registers fleet-spoke-a and fleet-spoke-b, each read through a
 * StackReference exactly as `pulumi up` would find them deployed (synth/fleet.ts).
 */

const hubRef = "organization/eks-gitops-platform/fleet-hub";
const spokeStacks = ["fleet-spoke-a", "fleet-spoke-b"];
const project = "eks-gitops-platform";

const expectedApplications: Record<string, string[]> = {
  // prod, Auto Mode, the default add-ons: no argo-cd (the hub's Argo CD deploys here).
  "fleet-spoke-a": [
    "cluster-base",
    "external-secrets",
    "external-secrets-stores",
    "falco",
    "karpenter-nodepools",
    "kubecost",
    "metrics-server",
  ],
  // staging, karpenter mode, Kubecost off, CoreDNS autoscaler on (and the load balancer controller Auto Mode has built in).
  "fleet-spoke-b": [
    "aws-load-balancer-controller",
    "cluster-base",
    "coredns-autoscaler",
    "external-secrets",
    "external-secrets-stores",
    "falco",
    "karpenter",
    "karpenter-nodepools",
    "metrics-server",
  ],
};

function fleetHubOf(result: SynthResult): FleetHubOutputs {
  return result.outputs.fleetHub as FleetHubOutputs;
}
function fleetSpokeOf(result: SynthResult): FleetSpokeOutputs {
  return result.outputs.fleetSpoke as FleetSpokeOutputs;
}
/** The resources below every component of a type (children, grandchildren, …). */
function under(result: SynthResult, component: string): SynthResource[] {
  const byUrn = new Map(result.resources.map((resource) => [resource.urn, resource]));
  const inside = (resource: SynthResource): boolean => {
    const parent = byUrn.get(resource.parent);
    return parent !== undefined && (parent.type === component || inside(parent));
  };
  return result.resources.filter((resource) => resource.custom && inside(resource));
}
const secretsOf = (result: SynthResult) => ofType(result, "kubernetes:core/v1:Secret");

describe("fleet: a hub and two spokes, synthesized offline", () => {
  let hub: SynthResult;
  const spokes = new Map<string, SynthResult>();
  let validators: Validators;
  before(async () => {
    validators = await loadValidators();
    hub = await synthesizedStack("fleet-hub");
    for (const stack of spokeStacks) spokes.set(stack, await synthesizedStack(stack));
  });

  it("the hub writes one cluster Secret per spoke with the spoke's own labels and annotations", () => {
    const names = secretsOf(hub).map((secret) => (secret.inputs.metadata as Tree).name);
    assert.deepEqual(names.sort(), ["cluster-fleet-hub", "cluster-fleet-spoke-a", "cluster-fleet-spoke-b"]);
    for (const stack of spokeStacks) {
      const spoke = spokes.get(stack) as SynthResult;
      const exported = fleetSpokeOf(spoke);
      const secret = secretsOf(hub).find(
        (candidate) => (candidate.inputs.metadata as Tree).name === `cluster-${stack}`,
      ) as SynthResource;
      const metadata = secret.inputs.metadata as { labels: Tree; annotations: Tree };
      // Built by the spoke with the same builder as every standalone stack's Secret.
      assert.deepEqual(exported.labels, clusterSecretLabels(spoke.config as PlatformConfig));
      assert.deepEqual(metadata.labels, exported.labels);
      assert.deepEqual(metadata.annotations, {
        ...exported.annotations,
        fleet_spoke_stack: `organization/${project}/${stack}`,
      });
      assert.equal(exported.annotations.aws_cluster_name, stack);
      assert.equal(exported.hub, hubRef);
    }
  });

  for (const stack of spokeStacks) {
    it(`ApplicationSets rendered against the hub's Secret for ${stack}: one Application per enabled add-on, spoke values resolved`, () => {
      const exported = fleetSpokeOf(spokes.get(stack) as SynthResult);
      const secret = secretsOf(hub).find(
        (candidate) => (candidate.inputs.metadata as Tree).name === `cluster-${stack}`,
      ) as SynthResource;
      const metadata = secret.inputs.metadata as {
        labels: Record<string, string>;
        annotations: Record<string, string>;
      };
      // stringData is redacted in the synth record: derived with the function the hub uses.
      const data = spokeClusterSecretData(fleetHubOf(hub).install, {
        name: exported.clusterName,
        arn: exported.clusterArn,
        endpoint: exported.endpoint,
        certificateAuthorityData: exported.certificateAuthorityData,
        roleArn: exported.hubAccessRoleArn,
      });
      const applications = generateFor(
        clusterGeneratorParams({ name: data.name, server: data.server, ...metadata }),
        `fleet-hub/${stack}`,
      );
      assert.deepEqual([...applications.keys()].sort(), expectedApplications[stack]);
      for (const [name, application] of applications) {
        validateObject(validators, application as never);
        const text = JSON.stringify(application);
        assert.ok(!text.includes("{{"), `${name} still holds a template action`);
        assert.ok(
          String((application.metadata as Tree).name).endsWith(stack),
          `${name} is named for ${stack}`,
        );
        const destination = (application.spec as Tree).destination as Tree;
        assert.equal(
          destination.server,
          exported.endpoint,
          `${name} deploys to ${stack}'s API, not the hub's`,
        );
        assert.ok(!text.includes("fleet-hub"), `${name} carries nothing of the hub's own cluster`);
      }
      const nodepools = JSON.stringify(applications.get("karpenter-nodepools"));
      for (const subnet of exported.annotations.aws_private_subnet_ids.split(","))
        assert.ok(nodepools.includes(subnet), `the node pools select ${stack}'s subnet ${subnet}`);
    });
  }

  it("spokes install no Argo CD: no chart, no capability, no Application, no cluster Secret, enable_argocd off", () => {
    for (const [stack, spoke] of spokes) {
      assert.deepEqual(ofType(spoke, "kubernetes:helm.sh/v3:Release"), [], `${stack}: no Helm release`);
      assert.deepEqual(ofType(spoke, "aws:eks/capability:Capability"), [], `${stack}: no capability`);
      assert.deepEqual(
        ofType(spoke, "kubernetes:argoproj.io/v1alpha1:Application"),
        [],
        `${stack}: no root app`,
      );
      assert.deepEqual(secretsOf(spoke), [], `${stack}: no cluster Secret of its own`);
      assert.equal(fleetSpokeOf(spoke).labels.enable_argocd, "false");
    }
    // The hub still runs its own Argo CD.
    assert.equal(ofType(hub, "kubernetes:helm.sh/v3:Release").length, 1);
  });

  it("each spoke grants the hub exactly the documented access: one role it may assume, one entry, one cluster-scoped policy, 443 from the hub", () => {
    const hubOut = fleetHubOf(hub);
    for (const [stack, spoke] of spokes) {
      const access = under(spoke, "platform:fleet:HubAccess");
      assert.deepEqual(access.map((resource) => resource.type).sort(), [
        "aws:eks/accessEntry:AccessEntry",
        "aws:eks/accessPolicyAssociation:AccessPolicyAssociation",
        "aws:iam/role:Role",
        "aws:vpc/securityGroupIngressRule:SecurityGroupIngressRule",
      ]);
      const role = access.find((resource) => resource.type === "aws:iam/role:Role") as SynthResource;
      assert.equal(role.inputs.name, `${stack}-argocd-hub`);
      assert.deepEqual(JSON.parse(String(role.inputs.assumeRolePolicy)).Statement, [
        {
          Effect: "Allow",
          Principal: { AWS: hubOut.principalArn },
          Action: ["sts:AssumeRole", "sts:TagSession"],
        },
      ]);
      const entry = access.find(
        (resource) => resource.type === "aws:eks/accessEntry:AccessEntry",
      ) as SynthResource;
      assert.equal(entry.inputs.type, "STANDARD");
      assert.equal(entry.inputs.kubernetesGroups, undefined, "no Kubernetes group beside the access policy");
      assert.equal(entry.inputs.principalArn, fleetSpokeOf(spoke).hubAccessRoleArn);
      const association = access.find(
        (resource) => resource.type === "aws:eks/accessPolicyAssociation:AccessPolicyAssociation",
      ) as SynthResource;
      assert.equal(association.inputs.policyArn, `arn:aws:eks::aws:cluster-access-policy/${hubAccessPolicy}`);
      assert.deepEqual(association.inputs.accessScope, { type: "cluster" });
      const rule = access.find((resource) =>
        resource.type.endsWith("SecurityGroupIngressRule"),
      ) as SynthResource;
      assert.deepEqual([rule.inputs.fromPort, rule.inputs.toPort], [443, 443]);
      // fleet-spoke-a shares the hub's VPC (same-vpc): the hub cluster's security group; fleet-spoke-b says routed.
      if (stack === "fleet-spoke-a") {
        assert.equal(rule.inputs.referencedSecurityGroupId, hubOut.clusterSecurityGroupId);
        assert.equal(rule.inputs.cidrIpv4, undefined);
      } else {
        assert.equal(rule.inputs.cidrIpv4, hubOut.vpcCidr);
        assert.equal(rule.inputs.referencedSecurityGroupId, undefined);
      }
    }
  });

  it("binds the chart's own service account names, at the argo-cd version addons/ pins (vendored fact)", () => {
    const fact = upstreamFact<Record<string, string>>("argo-cd-10.1.1.service-accounts.json");
    assert.deepEqual(
      [...argoCdFleetServiceAccounts],
      [fact.facts["controller.serviceAccount.name"], fact.facts["server.serviceAccount.name"]],
    );
    const set = applicationSets().find(({ set }) => (set.metadata as Tree).name === "argo-cd")?.set as Tree;
    const sources = (((set.spec as Tree).template as Tree).spec as Tree).sources as Tree[];
    const chart = sources.find((source) => source.chart === "argo-cd") as Tree;
    assert.equal(`argo-cd-${chart.targetRevision}`, fact.source.ref, "re-read the fact when the pin moves");
  });

  it("the hub's Argo CD identity: Pod Identity for controller and server, allowed to assume exactly its spokes' roles", () => {
    const fleet = under(hub, "platform:fleet:FleetHub");
    const associations = fleet
      .filter((resource) => resource.type === "aws:eks/podIdentityAssociation:PodIdentityAssociation")
      .map((resource) => `${resource.inputs.namespace}/${resource.inputs.serviceAccount}`);
    assert.deepEqual(associations.sort(), ["argocd/argocd-application-controller", "argocd/argocd-server"]);
    const policy = fleet.find(
      (resource) => resource.type === "aws:iam/rolePolicy:RolePolicy",
    ) as SynthResource;
    assert.deepEqual(JSON.parse(String(policy.inputs.policy)).Statement, [
      {
        Effect: "Allow",
        Action: ["sts:AssumeRole", "sts:TagSession"],
        Resource: spokeStacks.map((stack) => fleetSpokeOf(spokes.get(stack) as SynthResult).hubAccessRoleArn),
      },
    ]);
    // The in-cluster controller reaches its own cluster through its service account: no access entry for it.
    const hubEntries = ofType(hub, "aws:eks/accessEntry:AccessEntry").map(
      (entry) => entry.inputs.principalArn,
    );
    assert.ok(!hubEntries.includes(fleetHubOf(hub).principalArn));
  });

  it("no credential in any Secret, input or output of the fleet", () => {
    const credential =
      /bearerToken|"password"|keyData|certData|AKIA[0-9A-Z]{16}|aws_secret_access_key|BEGIN [A-Z ]*PRIVATE KEY/;
    for (const result of [hub, ...spokes.values()]) {
      const text = JSON.stringify({ resources: result.resources, outputs: result.outputs });
      assert.doesNotMatch(text, credential, `${result.stack} carries a credential`);
    }
    for (const install of ["helm", "capability"] as const)
      for (const stack of spokeStacks) {
        const exported = fleetSpokeOf(spokes.get(stack) as SynthResult);
        const data = spokeClusterSecretData(install, {
          name: exported.clusterName,
          arn: exported.clusterArn,
          endpoint: exported.endpoint,
          certificateAuthorityData: exported.certificateAuthorityData,
          roleArn: exported.hubAccessRoleArn,
        });
        assert.doesNotMatch(JSON.stringify(data), credential);
        if (install === "capability") assert.deepEqual(data, { name: stack, server: exported.clusterArn });
        else
          assert.deepEqual(JSON.parse(data.config), {
            awsAuthConfig: { clusterName: stack, roleARN: exported.hubAccessRoleArn },
            tlsClientConfig: { insecure: false, caData: exported.certificateAuthorityData },
          });
      }
  });

  it("a spoke of a capability hub grants the capability role directly and opens no network path (EKS reaches it)", async () => {
    const capabilityHub = await synthesize("fleet-hub", {
      overrides: {
        fleet: { spokes: [] },
        gitops: {
          argocd: {
            install: "capability",
            identityCenter: {
              instanceArn: "arn:aws:sso:::instance/ssoins-1234567890abcdef",
              region: "eu-west-1",
            },
          },
        },
      },
      stackOutputs: {},
    });
    const hubOut = fleetHubOf(capabilityHub);
    assert.equal(hubOut.install, "capability");
    assert.match(hubOut.principalArn, /:role\/fleet-hub-argocd-capability$/);
    const spoke = await synthesize("fleet-spoke-a", {
      overrides: { fleet: { hubNetwork: undefined } },
      stackOutputs: { [hubRef]: capabilityHub.outputs },
    });
    const access = under(spoke, "platform:fleet:HubAccess");
    assert.deepEqual(access.map((resource) => resource.type).sort(), [
      "aws:eks/accessEntry:AccessEntry",
      "aws:eks/accessPolicyAssociation:AccessPolicyAssociation",
    ]);
    const entry = access.find(
      (resource) => resource.type === "aws:eks/accessEntry:AccessEntry",
    ) as SynthResource;
    assert.equal(entry.inputs.principalArn, hubOut.principalArn);
    assert.equal(fleetSpokeOf(spoke).hubAccessRoleArn, undefined);
  });

  it("same-vpc: the spoke admits the hub's cluster security group, and refuses a hub in another VPC naming the key", async () => {
    const hubOut = fleetHubOf(hub);
    // Both clusters in the sample fleet's foundation VPC.
    const spoke = await synthesizedStack("fleet-spoke-a");
    const rule = under(spoke, "platform:fleet:HubAccess").find((resource) =>
      resource.type.endsWith("SecurityGroupIngressRule"),
    ) as SynthResource;
    assert.equal(rule.inputs.referencedSecurityGroupId, hubOut.clusterSecurityGroupId);
    assert.equal(rule.inputs.cidrIpv4, undefined);
    assert.equal(sameVpcHubSecurityGroup(project, hubOut, hubOut.vpcId), hubOut.clusterSecurityGroupId);
    assert.throws(
      () => sameVpcHubSecurityGroup(project, hubOut, "vpc-0another"),
      new RegExp(
        `${project}:fleet.hubNetwork is "same-vpc" but the hub .* runs in ${hubOut.vpcId} and this cluster in vpc-0another: set "routed"`,
      ),
    );
  });

  it("routed: a spoke whose hub lives in another VPC admits the hub's block and checks no VPC", async () => {
    const hubOut = { ...fleetHubOf(hub), vpcId: "vpc-0elsewhere" };
    const spoke = await synthesize("fleet-spoke-b", {
      stackOutputs: { [hubRef]: { ...hub.outputs, fleetHub: hubOut } },
    });
    const rule = under(spoke, "platform:fleet:HubAccess").find((resource) =>
      resource.type.endsWith("SecurityGroupIngressRule"),
    ) as SynthResource;
    assert.equal(rule.inputs.cidrIpv4, hubOut.vpcCidr);
    assert.equal(fleetSpokeOf(spoke).hub, hubRef);
  });

  describe("clear errors naming the key", () => {
    it("a spoke whose hub does not exist fails with fleet.hub and the stack it named", async () => {
      await assert.rejects(
        synthesize("fleet-spoke-a", {
          overrides: { fleet: { hub: "organization/eks-gitops-platform/no-such-hub" } },
        }),
        (error: Error) =>
          error.message.includes(`${project}:fleet.hub = "organization/eks-gitops-platform/no-such-hub"`) &&
          error.message.includes("has no outputs") &&
          error.message.includes("Deploy the hub first"),
      );
    });

    it("a spoke of a chart hub without fleet.hubNetwork says which key to set", async () => {
      await assert.rejects(
        synthesize("fleet-spoke-a", { overrides: { fleet: { hubNetwork: undefined } } }),
        (error: Error) =>
          error.message.includes(`${project}:fleet.hubNetwork`) && error.message.includes("routed"),
      );
    });

    it("a hub listing a spoke that does not exist, or one registered with another hub, names fleet.spokes.<i>", async () => {
      await assert.rejects(
        synthesize("fleet-hub", {
          overrides: { fleet: { spokes: ["organization/eks-gitops-platform/fleet-spoke-a", "acme/x/gone"] } },
        }),
        (error: Error) => error.message.includes(`${project}:fleet.spokes.1 = "acme/x/gone"`),
      );
      const spoke = await synthesizedStack("fleet-spoke-a");
      await assert.rejects(
        synthesize("fleet-hub", {
          overrides: { fleet: { spokes: ["acme/x/other"] } },
          stackOutputs: {
            "acme/x/other": {
              ...spoke.outputs,
              fleetSpoke: { ...fleetSpokeOf(spoke), hub: "acme/x/another-hub" },
            },
          },
        }),
        (error: Error) =>
          error.message.includes(`${project}:fleet.spokes.0`) && error.message.includes("acme/x/another-hub"),
      );
    });

    it("config: a spoke must name its hub; only a hub lists spokes; only a spoke names a hub", () => {
      const resolve = (fleet: unknown) =>
        resolvePlatformConfig(
          {
            environment: "prod",
            access: { deployRoleArn: "arn:aws:iam::111122223333:role/github-deploy" },
            fleet,
          },
          { project, stack: "x", region: "eu-west-1" },
        );
      const keys = (fleet: unknown) => {
        try {
          resolve(fleet);
          return [];
        } catch (error) {
          assert.ok(error instanceof ConfigError);
          return error.problems.map((problem) => problem.key);
        }
      };
      assert.deepEqual(keys({ role: "spoke" }), [`${project}:fleet.hub`]);
      assert.deepEqual(keys({ role: "standalone", spokes: [hubRef] }), [`${project}:fleet.spokes`]);
      assert.deepEqual(keys({ role: "hub", hub: hubRef }), [`${project}:fleet.hub`]);
      assert.deepEqual(keys({ role: "hub", spokes: [hubRef, hubRef] }), [`${project}:fleet.spokes.1`]);
      assert.deepEqual(keys({ role: "spoke", hub: "fleet-hub" }), [`${project}:fleet.hub`]);
      assert.deepEqual(keys({ role: "spoke", hub: hubRef, hubNetwork: "routed" }), []);
      assert.equal(resolve(undefined).fleet, undefined, "a standalone stack's resolved config gains no key");
    });
  });

  it("standalone samples are untouched: no fleet resource, no fleet output", async () => {
    for (const stack of ["dev", "prod", "staging"]) {
      const result = await synthesizedStack(stack);
      assert.ok(!result.resources.some((resource) => resource.urn.includes("platform:fleet:")), stack);
      assert.ok(!Object.keys(result.outputs).some((key) => key.startsWith("fleet")), stack);
    }
  });
});
