import { strict as assert } from "node:assert";
import * as command from "@pulumi/command";
import * as pulumi from "@pulumi/pulumi";
import { OrderedTeardown } from "../../infra/teardown/component";

interface Registration {
  readonly type: string;
  readonly name: string;
  readonly urn: string;
  readonly dependencies: string[];
  readonly inputs: Record<string, unknown>;
}

/** Minimal view of the protobuf request the mock monitor receives, to see dependencies as the engine does. */
interface RegisterRequest {
  getType(): string;
  getName(): string;
  getDependenciesList(): string[];
}
interface Monitor {
  registerResource(
    request: RegisterRequest,
    callback: (error: Error | null, response?: { getUrn(): string }) => void,
  ): void;
}

/** Unwraps a secret as the mocks see it ({ <sig key>: <secret sig>, value }); fails if the value is not secret. */
function secretValue(wrapped: unknown): Record<string, string> {
  const secret = wrapped as { [pulumi.runtime.specialSigKey]?: string; value?: Record<string, string> };
  assert.equal(
    secret?.[pulumi.runtime.specialSigKey],
    pulumi.runtime.specialSecretSig,
    "value is marked secret",
  );
  return { ...secret.value };
}

describe("ops/teardown OrderedTeardown component (Pulumi mocks)", function () {
  this.timeout(60_000);

  async function register(
    computeMode: "auto" | "karpenter",
    deletionProtection: boolean,
  ): Promise<Registration[]> {
    const registrations: Registration[] = [];
    const inputs = new Map<string, Record<string, unknown>>();
    await pulumi.runtime.setMocks(
      {
        newResource: (args) => {
          inputs.set(args.name, args.inputs as Record<string, unknown>);
          return { id: `${args.name}-id`, state: args.inputs };
        },
        call: (args) => args.inputs,
      },
      "eks-gitops-platform",
      "dev",
      false,
    );
    const monitor = pulumi.runtime.getMonitor() as unknown as Monitor;
    const original = monitor.registerResource.bind(monitor);
    monitor.registerResource = (request, callback) =>
      original(request, (error, response) => {
        if (response) {
          registrations.push({
            type: request.getType(),
            name: request.getName(),
            urn: response.getUrn(),
            dependencies: request.getDependenciesList(),
            get inputs() {
              return inputs.get(request.getName()) ?? {};
            },
          });
        }
        callback(error, response);
      });
    const cluster = new command.local.Command("cluster-stand-in", { create: "true" });
    const argocd = new command.local.Command("argocd-stand-in", { create: "true" });
    const teardown = new OrderedTeardown("teardown", {
      clusterName: "platform-dev",
      region: "eu-west-1",
      kubeconfig: pulumi.secret("apiVersion: v1"),
      vpcId: "vpc-123",
      cidrBlock: "10.40.0.0/16",
      clusterSecurityGroupId: "sg-cluster",
      computeMode,
      deletionProtection,
      dependsOn: [cluster, argocd],
    });
    await new Promise<void>((resolve) => teardown.command.urn.apply(() => resolve()));
    await new Promise((resolve) => setTimeout(resolve, 50));
    return registrations;
  }

  it("registers a delete-only command that runs the teardown CLI after (so it is deleted before) the cluster and Argo CD", async () => {
    const registrations = await register("auto", false);
    const drain = registrations.find(
      (r) => r.type === "command:local:Command" && r.name === "teardown-drain",
    );
    assert.ok(drain, `no drain command among ${registrations.map((r) => r.name).join(", ")}`);
    const urnOf = (name: string) => registrations.find((r) => r.name === name)?.urn ?? "";
    assert.ok(
      drain.dependencies.includes(urnOf("cluster-stand-in")) &&
        drain.dependencies.includes(urnOf("argocd-stand-in")),
    );
    assert.equal(drain.inputs.create, undefined);
    assert.equal(
      drain.inputs.delete,
      "npx --no-install ts-node --transpile-only ops/teardown/cli.ts --from-env",
    );
    // The kubeconfig makes the whole environment a secret, so it is encrypted in the state.
    assert.deepEqual(secretValue(drain.inputs.environment), {
      TEARDOWN_CLUSTER_NAME: "platform-dev",
      TEARDOWN_REGION: "eu-west-1",
      TEARDOWN_VPC_ID: "vpc-123",
      TEARDOWN_CIDR_BLOCK: "10.40.0.0/16",
      TEARDOWN_CLUSTER_SECURITY_GROUP_ID: "sg-cluster",
      TEARDOWN_KUBECONFIG: "apiVersion: v1",
      TEARDOWN_STACK: "dev",
      TEARDOWN_DELETION_PROTECTION: "false",
      TEARDOWN_RETAINED_NODE_POOLS: "system,general-purpose",
      TEARDOWN_ARGOCD_NAMESPACE: "argocd",
      TEARDOWN_KEEP_APPLICATIONS: "",
      TEARDOWN_TIMEOUT_MINUTES: "20",
    });
    assert.ok(registrations.some((r) => r.type === "platform:ops:OrderedTeardown"));
  });

  it("retains no node pool in karpenter mode and carries the deletion protection flag", async () => {
    const registrations = await register("karpenter", true);
    const environment = secretValue(
      registrations.find((r) => r.name === "teardown-drain")?.inputs.environment,
    );
    assert.equal(environment.TEARDOWN_RETAINED_NODE_POOLS, "");
    assert.equal(environment.TEARDOWN_DELETION_PROTECTION, "true");
  });
});
