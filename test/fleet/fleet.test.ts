import { strict as assert } from "node:assert";
import { readFileSync } from "node:fs";
import type { PlatformConfig } from "../../infra/config";
import { ConfigError, resolvePlatformConfig } from "../../infra/config";
import {
  argoCdFleetServiceAccounts,
  FleetHubOutputs,
  fleetRegistrarLabel,
  fleetSpokeLabel,
  FleetSpokeOutputs,
  hubAccessPolicy,
  hubAccessRolePath,
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
 * The sample fleet (examples/fleet/): fleet-spoke-a and fleet-spoke-b each register themselves with fleet-hub, which
 * they read through a StackReference exactly as `pulumi up` would find it deployed (synth/fleet.ts). The hub reads
 * no spoke.
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
  // prod, karpenter mode, Kubecost off, CoreDNS autoscaler on (and the load balancer controller Auto Mode has built in).
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
/** Every resource `from` waits for on `up` (and that outlives it on `destroy`): its dependencies, transitively. */
function dependenciesOf(result: SynthResult, from: SynthResource): Set<string> {
  const byUrn = new Map(result.resources.map((resource) => [resource.urn, resource]));
  const seen = new Set<string>();
  const visit = (resource: SynthResource) => {
    for (const urn of resource.dependencies) {
      if (seen.has(urn)) continue;
      seen.add(urn);
      const next = byUrn.get(urn);
      if (next) visit(next);
    }
  };
  visit(from);
  return seen;
}
const secretsOf = (result: SynthResult) => ofType(result, "kubernetes:core/v1:Secret");

interface Registration {
  command: SynthResource;
  manifest: {
    metadata: {
      name: string;
      namespace: string;
      labels: Record<string, string>;
      annotations: Record<string, string>;
    };
    data: Record<string, string>;
  };
  /** The Secret's data as Argo CD reads it (base64-decoded). */
  data: Record<string, string>;
}
/** The cluster Secret a spoke's `pulumi up` writes into its hub (its SpokeRegistration command). */
function registrationOf(result: SynthResult): Registration {
  const command = result.resources.find(
    (resource) => resource.name === "fleet-registration-secret",
  ) as SynthResource;
  assert.ok(command, `${result.stack} registers itself`);
  const environment = command.inputs.environment as Record<string, string>;
  const manifest = JSON.parse(environment.FLEET_REGISTRATION) as Registration["manifest"];
  const data = Object.fromEntries(
    Object.entries(manifest.data).map(([key, value]) => [key, Buffer.from(value, "base64").toString("utf8")]),
  );
  return { command, manifest, data };
}

describe("fleet: a hub and two spokes, synthesized offline", () => {
  let hub: SynthResult;
  const spokes = new Map<string, SynthResult>();
  let validators: Validators;
  before(async () => {
    validators = await loadValidators();
    hub = await synthesizedStack("fleet-hub");
    for (const stack of spokeStacks) spokes.set(stack, await synthesizedStack(stack));
  });

  it("one `pulumi up` of a spoke registers it: the spoke writes its own Secret into the hub, the hub lists no spoke", () => {
    for (const stack of spokeStacks) {
      const spoke = spokes.get(stack) as SynthResult;
      const exported = fleetSpokeOf(spoke);
      const { command, manifest, data } = registrationOf(spoke);
      assert.equal(
        command.inputs.create,
        "npx --no-install ts-node --transpile-only ops/fleet/registration.ts apply",
      );
      assert.equal(
        command.inputs.delete,
        "npx --no-install ts-node --transpile-only ops/fleet/registration.ts release",
      );
      assert.equal(manifest.metadata.name, `cluster-${stack}`);
      assert.equal(manifest.metadata.namespace, fleetHubOf(hub).argocdNamespace);
      // Built by the spoke with the same builder as every standalone stack's Secret, plus the fleet labels.
      assert.deepEqual(exported.labels, clusterSecretLabels(spoke.config as PlatformConfig));
      assert.deepEqual(manifest.metadata.labels, {
        ...exported.labels,
        [fleetSpokeLabel]: "true",
        [fleetRegistrarLabel]: fleetHubOf(hub).accountId,
      });
      assert.deepEqual(manifest.metadata.annotations, {
        ...exported.annotations,
        fleet_spoke_stack: `organization/${project}/${stack}`,
      });
      assert.equal(data.name, stack);
      assert.equal(data.server, exported.endpoint);
      assert.equal(exported.annotations.aws_cluster_name, stack);
      assert.equal(exported.hub, hubRef);
      // It talks to the hub's API with a kubeconfig for the hub (no credential: `aws eks get-token`).
      const kubeconfig = (command.inputs.environment as Record<string, string>).FLEET_HUB_KUBECONFIG;
      assert.ok(kubeconfig.includes(`server: ${fleetHubOf(hub).endpoint}`));
      assert.ok(kubeconfig.includes("get-token") && kubeconfig.includes("fleet-hub"));
    }
    // The hub declares only its own cluster Secret and knows nothing of its spokes.
    assert.deepEqual(
      secretsOf(hub).map((secret) => (secret.inputs.metadata as Tree).name),
      ["cluster-fleet-hub"],
    );
    const text = JSON.stringify({ resources: hub.resources, outputs: hub.outputs });
    for (const stack of spokeStacks)
      assert.ok(!text.includes(stack), `the hub's graph does not mention ${stack}`);
  });

  it("the registration is created after the hub's access to the spoke exists and deleted before it (and before the teardown)", () => {
    // A changed Secret is an update of the command, never a replacement (which would run the drain on a live spoke).
    const lifecycle = upstreamFact<{ replaceOnChanges: string[] }>(
      "pulumi-command-v1.2.1.local-command-lifecycle.json",
    );
    const pins = (
      JSON.parse(readFileSync("package.json", "utf8")) as { dependencies: Record<string, string> }
    ).dependencies;
    assert.equal(`v${pins["@pulumi/command"]}`, lifecycle.source.ref, "re-read the fact when the pin moves");
    for (const stack of spokeStacks) {
      const spoke = spokes.get(stack) as SynthResult;
      const { command } = registrationOf(spoke);
      for (const input of lifecycle.facts.replaceOnChanges)
        assert.equal(command.inputs[input], undefined, `${stack}: no ${input} on the registration`);
      const urnOf = (name: string) =>
        spoke.resources.find((resource) => resource.name === name)?.urn as string;
      for (const name of ["fleet-hub-access-policy", "teardown-drain"])
        assert.ok(
          command.dependencies.includes(urnOf(name)),
          `${stack}: the registration depends on ${name}`,
        );
    }
  });

  it("the hub's whole access to a spoke (role, entry, policy, 443 from the hub) exists before the registration and outlives its drain", () => {
    // Anything of HubAccess the registration does not depend on is deleted by `pulumi destroy` in parallel with the
    // drain: without the 443 rule the hub's Argo CD cannot reach the spoke to cascade-delete, and the drain times out.
    for (const stack of spokeStacks) {
      const spoke = spokes.get(stack) as SynthResult;
      const deps = dependenciesOf(spoke, registrationOf(spoke).command);
      const access = under(spoke, "platform:fleet:HubAccess");
      assert.ok(
        access.some(
          (resource) => resource.type === "aws:vpc/securityGroupIngressRule:SecurityGroupIngressRule",
        ),
      );
      const missing = access.filter((resource) => !deps.has(resource.urn)).map((resource) => resource.name);
      assert.deepEqual(
        missing,
        [],
        `${stack}: the registration does not wait for (nor outlive) ${missing.join(", ")}`,
      );
    }
  });

  it("the hub deploys to a spoke only once the spoke's add-on AWS side exists, and drains it before that goes", () => {
    // A standalone root Application depends on the add-ons' AWS side (roles, Pod Identity associations, Karpenter's
    // queue and rules, the node role's access entry): a pod created before its Pod Identity association never gets
    // credentials, and Karpenter needs its role while the drain deletes its node pools. On a spoke the hub deploys
    // as soon as the registration exists, and `pulumi destroy` deletes what the registration and the teardown do not
    // depend on in parallel with the drain.
    for (const stack of spokeStacks) {
      const spoke = spokes.get(stack) as SynthResult;
      const addonsAws = under(spoke, "platform:index:AddonsAws");
      assert.ok(
        addonsAws.some(
          (resource) => resource.type === "aws:eks/podIdentityAssociation:PodIdentityAssociation",
        ),
        `${stack} has add-on Pod Identity associations`,
      );
      const teardown = spoke.resources.find(
        (resource) => resource.name === "teardown-drain",
      ) as SynthResource;
      for (const [what, from] of [
        ["registration", registrationOf(spoke).command],
        ["teardown", teardown],
      ] as const) {
        // Pulumi records a dependency on a component as dependencies on each of its resources.
        const deps = dependenciesOf(spoke, from);
        const covered = (resource: SynthResource) => deps.has(resource.urn);
        const missing = addonsAws.filter((resource) => !covered(resource)).map((resource) => resource.name);
        assert.deepEqual(
          missing,
          [],
          `${stack}: the ${what} does not wait for (nor outlive) ${missing.join(", ")}`,
        );
      }
    }
  });

  for (const stack of spokeStacks) {
    it(`ApplicationSets rendered against the Secret ${stack} registers: one Application per enabled add-on, spoke values resolved`, () => {
      const exported = fleetSpokeOf(spokes.get(stack) as SynthResult);
      const { manifest, data } = registrationOf(spokes.get(stack) as SynthResult);
      const applications = generateFor(
        clusterGeneratorParams({
          name: data.name,
          server: data.server,
          labels: manifest.metadata.labels,
          annotations: manifest.metadata.annotations,
        }),
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
      assert.equal(role.inputs.path, hubAccessRolePath("fleet-hub"));
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

  it("the hub installs Argo CD only once its Pod Identity associations exist (pods created before them never get credentials)", () => {
    const [release] = ofType(hub, "kubernetes:helm.sh/v3:Release");
    assert.equal(release.inputs.chart, "argo-cd");
    const deps = dependenciesOf(hub, release);
    const identity = under(hub, "platform:fleet:FleetHub").filter(
      (resource) => !resource.urn.includes("platform:fleet:FleetRegistrars"),
    );
    assert.ok(
      identity.some((resource) => resource.type === "aws:eks/podIdentityAssociation:PodIdentityAssociation"),
    );
    const missing = identity.filter((resource) => !deps.has(resource.urn)).map((resource) => resource.name);
    assert.deepEqual(missing, [], `the argo-cd release does not wait for ${missing.join(", ")}`);
  });

  it("the hub's Argo CD identity: Pod Identity for controller and server, allowed to assume only roles under its fleet path", () => {
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
        Resource: "arn:aws:iam::*:role/argocd-fleet/fleet-hub/*",
      },
    ]);
    // Every spoke's hub-access role lives under that path (its trust admits only this hub's controller role).
    for (const stack of spokeStacks) {
      const role = under(spokes.get(stack) as SynthResult, "platform:fleet:HubAccess").find(
        (resource) => resource.type === "aws:iam/role:Role",
      ) as SynthResource;
      assert.equal(
        `arn:aws:iam::*:role${String(role.inputs.path)}*`,
        "arn:aws:iam::*:role/argocd-fleet/fleet-hub/*",
      );
    }
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
    // What the spokes write into the hub, decoded as Argo CD reads it: an IAM role to assume, a public CA.
    for (const stack of spokeStacks) {
      const { data } = registrationOf(spokes.get(stack) as SynthResult);
      assert.deepEqual(Object.keys(data).sort(), ["config", "name", "server"]);
      assert.doesNotMatch(JSON.stringify(data), credential);
      assert.deepEqual(Object.keys(JSON.parse(data.config)).sort(), ["awsAuthConfig", "tlsClientConfig"]);
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
    // Capability: the cluster ARN as server, no config (the capability authenticates as its own role).
    assert.deepEqual(registrationOf(spoke).data, {
      name: "fleet-spoke-a",
      server: fleetSpokeOf(spoke).clusterArn,
    });
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

    it("a stack that still sets fleet.spokes is told the key was removed and what to do instead", async () => {
      await assert.rejects(
        synthesize("fleet-hub", {
          overrides: { fleet: { spokes: ["organization/eks-gitops-platform/fleet-spoke-a"] } },
        }),
        (error: Error) =>
          error.message.includes(`${project}:fleet.spokes`) &&
          error.message.includes("was removed") &&
          error.message.includes("Delete fleet.spokes") &&
          error.message.includes("fleet.registrars"),
      );
    });

    it("a spoke of another environment than its hub's fails naming fleet.hub, and why", async () => {
      const hubOut = fleetHubOf(hub);
      await assert.rejects(
        synthesize("fleet-spoke-a", {
          stackOutputs: { [hubRef]: { ...hub.outputs, fleetHub: { ...hubOut, environment: "staging" } } },
        }),
        (error: Error) =>
          error.message.includes(`${project}:fleet.hub = "${hubRef}"`) &&
          error.message.includes("the hub serves staging, this stack is prod") &&
          error.message.includes("as trusted as the hub"),
      );
    });

    it("a spoke named like its hub fails naming cluster.name (its Secret would be the hub's own cluster-<name>)", async () => {
      const hubOut = fleetHubOf(hub);
      await assert.rejects(
        synthesize("fleet-spoke-a", {
          stackOutputs: {
            [hubRef]: { ...hub.outputs, fleetHub: { ...hubOut, clusterName: "fleet-spoke-a" } },
          },
        }),
        (error: Error) =>
          error.message.includes(`${project}:cluster.name = "fleet-spoke-a"`) &&
          error.message.includes("cluster-fleet-spoke-a") &&
          error.message.includes("its own cluster.name"),
      );
    });

    it("a spoke whose deploy role the hub does not accept fails naming the hub's fleet.registrars", async () => {
      const hubOut = fleetHubOf(hub);
      await assert.rejects(
        synthesize("fleet-spoke-a", {
          stackOutputs: {
            [hubRef]: {
              ...hub.outputs,
              fleetHub: {
                ...hubOut,
                deployRoleArn: "arn:aws:iam::999999999999:role/other-deploy",
                registrars: [],
              },
            },
          },
        }),
        (error: Error) =>
          error.message.includes(`fleet.registrars of the hub ${hubRef}`) &&
          error.message.includes("Add ") &&
          error.message.includes("`pulumi up` the hub once"),
      );
      // Listed as a registrar: accepted.
      const spoke = await synthesize("fleet-spoke-a", {
        stackOutputs: {
          [hubRef]: {
            ...hub.outputs,
            fleetHub: {
              ...hubOut,
              deployRoleArn: "arn:aws:iam::999999999999:role/other-deploy",
              registrars: [fleetHubOf(hub).deployRoleArn],
            },
          },
        },
      });
      assert.equal(registrationOf(spoke).manifest.metadata.name, "cluster-fleet-spoke-a");
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
      const registrar = "arn:aws:iam::444455556666:role/eks-gitops-prod-deploy";
      assert.deepEqual(keys({ role: "spoke" }), [`${project}:fleet.hub`]);
      assert.deepEqual(keys({ role: "hub", spokes: [hubRef] }), [`${project}:fleet.spokes`]);
      assert.deepEqual(keys({ role: "hub", hub: hubRef }), [`${project}:fleet.hub`]);
      assert.deepEqual(keys({ role: "hub", registrars: [registrar] }), []);
      assert.deepEqual(keys({ role: "spoke", hub: hubRef, registrars: [registrar] }), [
        `${project}:fleet.registrars`,
      ]);
      assert.deepEqual(
        keys({ role: "hub", registrars: [registrar, "arn:aws:iam::444455556666:role/other"] }),
        [`${project}:fleet.registrars.1`],
      );
      assert.deepEqual(keys({ role: "hub", registrars: ["444455556666"] }), [
        `${project}:fleet.registrars.0`,
      ]);
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
