import { strict as assert } from "node:assert";
import {
  AssociateVpcCidrBlockCommand,
  CreateNetworkInterfaceCommand,
  CreateSecurityGroupCommand,
  CreateSubnetCommand,
  CreateVpcCommand,
  DeleteNetworkInterfaceCommand,
  EC2Client,
  RunInstancesCommand,
} from "@aws-sdk/client-ec2";
import { CreateClusterCommand, EKSClient } from "@aws-sdk/client-eks";
import { resolvePlatformConfig } from "../../infra/config";
import { runTeardown, TeardownTimeoutError } from "../../ops/teardown";
import { interfaceOwner, SdkInventory, verifyStack } from "../../ops/verify";
import { requireTool } from "../support/tools";
import { FakeClock, Moto, startMoto, useFakeCredentials } from "./moto";

/**
 * One foundation VPC shared by two cluster stacks (dev in 10.40.0.0/16, staging in 10.50.0.0/16, the runners in the
 * primary block), as moto_server holds it: the teardown and the live check of one cluster look only at that
 * cluster's ENIs. Tearing down dev must neither wait for staging's detached ENIs nor name them.
 */

const region = "us-east-1";
const zones = ["a", "b", "c"].map((zone) => `${region}${zone}`);

const noArgo = {
  list: async () => [],
  setFinalizers: async () => undefined,
  stopAutoSync: async () => undefined,
  delete: async () => undefined,
};

const drainOptions = {
  argocdNamespace: "argocd",
  keep: [],
  timeoutMs: 10 * 60_000,
  pollMs: 60_000,
  attempts: 1,
  log: () => undefined,
};

describe("a foundation VPC shared by two clusters (moto_server): each cluster's own ENIs only", function () {
  this.timeout(60_000);
  let moto: Moto;
  let restoreEnv: () => void;
  let ec2: EC2Client;
  let inventory: SdkInventory;
  let vpcId: string;
  const subnets: Record<"runner" | "dev" | "staging", string[]> = { runner: [], dev: [], staging: [] };
  const groups: Record<"dev" | "staging", string> = { dev: "", staging: "" };
  const enis: Record<string, string> = {};

  const eni = async (
    name: string,
    subnetId: string,
    extra: { groups?: string[]; tags?: [string, string][] },
  ) => {
    const created = await ec2.send(
      new CreateNetworkInterfaceCommand({
        SubnetId: subnetId,
        Description: name,
        ...(extra.groups ? { Groups: extra.groups } : {}),
        ...(extra.tags
          ? {
              TagSpecifications: [
                {
                  ResourceType: "network-interface",
                  Tags: extra.tags.map(([Key, Value]) => ({ Key, Value })),
                },
              ],
            }
          : {}),
      }),
    );
    enis[name] = created.NetworkInterface?.NetworkInterfaceId ?? "";
  };

  before(async function () {
    requireTool(this, "moto_server");
    restoreEnv = useFakeCredentials();
    moto = await startMoto();
    const client = { region, endpoint: moto.endpoint };
    ec2 = new EC2Client(client);
    inventory = new SdkInventory(client);
    vpcId = (await ec2.send(new CreateVpcCommand({ CidrBlock: "10.0.0.0/20" }))).Vpc?.VpcId ?? "";
    for (const block of ["10.40.0.0/16", "10.50.0.0/16"])
      await ec2.send(new AssociateVpcCidrBlockCommand({ VpcId: vpcId, CidrBlock: block }));
    const subnet = async (cidr: string, zone: string) =>
      (await ec2.send(new CreateSubnetCommand({ VpcId: vpcId, CidrBlock: cidr, AvailabilityZone: zone })))
        .Subnet?.SubnetId ?? "";
    for (const [index, zone] of zones.entries()) {
      subnets.runner.push(await subnet(`10.0.${index * 4}.0/22`, zone));
      subnets.dev.push(await subnet(`10.40.${index * 32}.0/19`, zone));
      subnets.staging.push(await subnet(`10.50.${index * 32}.0/19`, zone));
    }
    for (const cluster of ["dev", "staging"] as const)
      groups[cluster] =
        (
          await ec2.send(
            new CreateSecurityGroupCommand({
              VpcId: vpcId,
              GroupName: `eks-cluster-sg-gitops-${cluster}`,
              Description: `EKS cluster security group of gitops-${cluster}`,
            }),
          )
        ).GroupId ?? "";

    // Detached ENIs of each cluster: in its subnets, holding its cluster security group, tagged for it.
    await eni("dev leaked by the CNI", subnets.dev[1], {});
    await eni("dev endpoint in a runner subnet", subnets.runner[0], { groups: [groups.dev] });
    await eni("dev tagged", subnets.runner[1], { tags: [["kubernetes.io/cluster/gitops-dev", "owned"]] });
    await eni("staging leaked by the CNI", subnets.staging[0], {});
    await eni("staging tagged", subnets.runner[2], { tags: [["eks:eks-cluster-name", "gitops-staging"]] });
    await eni("a runner build's", subnets.runner[0], {});
    // A live dev node: its ENI is in use and goes with the instance, not a leftover.
    await ec2.send(
      new RunInstancesCommand({
        ImageId: "ami-12c6146b",
        MinCount: 1,
        MaxCount: 1,
        SubnetId: subnets.dev[0],
      }),
    );
    await new EKSClient(client).send(
      new CreateClusterCommand({
        name: "gitops-dev",
        version: "1.35",
        roleArn: "arn:aws:iam::123456789012:role/cluster",
        resourcesVpcConfig: {
          subnetIds: subnets.dev,
          endpointPrivateAccess: true,
          endpointPublicAccess: false,
        },
      }),
    );
  });
  after(async () => {
    await moto?.stop();
    restoreEnv?.();
  });

  const interfacesOf = async (cluster: "dev" | "staging", scope: { subnets?: boolean; block?: boolean }) =>
    (
      await inventory.findLeftovers({
        clusterName: `gitops-${cluster}`,
        vpcId,
        subnetIds: scope.subnets ? subnets[cluster] : [],
        cidrBlock: scope.block ? (cluster === "dev" ? "10.40.0.0/16" : "10.50.0.0/16") : undefined,
        clusterSecurityGroupId: groups[cluster],
        retainedNodePools: [],
      })
    ).interfaces
      .map((found) => found.description)
      .sort();

  it("finds each cluster's detached ENIs by subnet, block, security group and tag, and no other's", async () => {
    assert.deepEqual(await interfacesOf("dev", { subnets: true, block: true }), [
      "dev endpoint in a runner subnet",
      "dev leaked by the CNI",
      "dev tagged",
    ]);
    assert.deepEqual(await interfacesOf("staging", { subnets: true, block: true }), [
      "staging leaked by the CNI",
      "staging tagged",
    ]);
    // Once the cluster is gone (no subnets from describe-cluster), its block still bounds its share of the VPC.
    assert.deepEqual(await interfacesOf("staging", { block: true }), [
      "staging leaked by the CNI",
      "staging tagged",
    ]);
    // With neither subnets nor block, only the security group and the tags say what is the cluster's.
    assert.deepEqual(await interfacesOf("dev", {}), ["dev endpoint in a runner subnet", "dev tagged"]);
  });

  it("tearing down dev waits for dev's ENIs only: it names them when they stay, and ends while staging's remain", async () => {
    const target = {
      clusterName: "gitops-dev",
      stack: "dev",
      vpcId,
      cidrBlock: "10.40.0.0/16",
      clusterSecurityGroupId: groups.dev,
      deletionProtection: false,
      retainedNodePools: [],
    };
    const error = await runTeardown(
      target,
      { inventory, argo: async () => noArgo, clock: new FakeClock() },
      drainOptions,
    ).then(
      () => assert.fail("dev's leaked ENIs are still there"),
      (caught: unknown) => caught as Error,
    );
    assert.ok(error instanceof TeardownTimeoutError, String(error));
    for (const name of ["dev leaked by the CNI", "dev endpoint in a runner subnet", "dev tagged"])
      assert.ok(error.message.includes(enis[name]), `${name} (${enis[name]}) named:\n${error.message}`);
    for (const name of ["staging leaked by the CNI", "staging tagged", "a runner build's"])
      assert.ok(!error.message.includes(enis[name]), `${name} is not dev's:\n${error.message}`);
    assert.match(error.message, /aws ec2 delete-network-interface/);

    for (const name of ["dev leaked by the CNI", "dev endpoint in a runner subnet", "dev tagged"])
      await ec2.send(new DeleteNetworkInterfaceCommand({ NetworkInterfaceId: enis[name] }));
    const clock = new FakeClock();
    await runTeardown(target, { inventory, argo: async () => noArgo, clock }, drainOptions);
    assert.equal(clock.time, 0, "staging's ENIs and the runner's are not waited for");
  });

  it("a staging cluster already gone is checked in its own block only", async () => {
    await assert.rejects(
      runTeardown(
        {
          clusterName: "gitops-staging",
          vpcId,
          cidrBlock: "10.50.0.0/16",
          deletionProtection: false,
          retainedNodePools: [],
        },
        { inventory, argo: async () => assert.fail("no cluster to drain"), clock: new FakeClock() },
        drainOptions,
      ),
      (error: Error) => {
        assert.match(error.message, /gitops-staging is gone but AWS resources/);
        assert.ok(error.message.includes(enis["staging leaked by the CNI"]));
        assert.ok(error.message.includes(enis["staging tagged"]));
        assert.ok(!error.message.includes(enis["a runner build's"]), error.message);
        return true;
      },
    );
  });

  it("the live check of dev reports none of staging's or the runners' detached ENIs", async () => {
    const config = resolvePlatformConfig(
      {
        environment: "dev",
        expiresOn: "2026-12-31",
        cluster: { name: "gitops-dev", kubernetesVersion: "1.35" },
        network: { vpcCidr: "10.40.0.0/16" },
        access: { deployRoleArn: "arn:aws:iam::123456789012:role/github-deploy" },
      },
      { project: "eks-gitops-platform", stack: "dev", region, today: "2026-11-28" },
    );
    await eni("dev leaked again", subnets.dev[2], {});
    const { findings } = await verifyStack(config, inventory);
    const detached = findings.find((finding) => finding.check === "detached network interfaces");
    assert.equal(detached?.ok, false);
    assert.equal(detached?.actual, `${enis["dev leaked again"]} dev leaked again`);
  });
});

describe("ops/verify interfaceOwner: what makes an ENI the cluster's", () => {
  it("judges ownership without a VPC-wide fallback (pure)", () => {
    const scope = { clusterName: "gitops-dev", vpcId: "vpc-1", cidrBlock: "10.40.0.0/16" };
    const facts = { privateIps: ["10.50.3.4"], groupIds: [], tags: [] };
    assert.equal(interfaceOwner(facts, scope), undefined);
    assert.match(interfaceOwner({ ...facts, privateIps: ["10.40.3.4"] }, scope) ?? "", /10\.40\.3\.4/);
    assert.match(
      interfaceOwner({ ...facts, tags: [{ Key: "eks:cluster-name", Value: "gitops-dev" }] }, scope) ?? "",
      /tagged/,
    );
    assert.equal(
      interfaceOwner({ ...facts, tags: [{ Key: "eks:cluster-name", Value: "gitops-staging" }] }, scope),
      undefined,
    );
  });
});
