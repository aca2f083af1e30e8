import { strict as assert } from "node:assert";
import { CreateSubnetCommand, CreateVpcCommand, DeleteSubnetCommand, EC2Client } from "@aws-sdk/client-ec2";
import { checkFoundationDestroy, destroyRefusal, foreignSubnets } from "../../ops/foundation/guard";
import { main as guardMain } from "../../ops/foundation/cli";
import { requireTool } from "../support/tools";
import { Moto, startMoto, useFakeCredentials } from "./moto";

/** Destroy order in code: the foundation refuses `pulumi destroy` while a cluster stack's subnets are in its VPC. */

describe("ops/foundation: the destroy guard", () => {
  it("names the subnets the foundation does not own and the stacks that hold them", () => {
    const subnets = [
      { id: "subnet-own1", cidr: "10.0.0.0/22", name: "platform-runner-a", stack: "eu-west-1" },
      { id: "subnet-dev1", cidr: "10.40.0.0/19", name: "platform-dev-private-eu-west-1a", stack: "dev" },
      { id: "subnet-dev2", cidr: "10.40.32.0/19", stack: "dev" },
    ];
    const foreign = foreignSubnets(subnets, ["subnet-own1"]);
    assert.deepEqual(
      foreign.map((subnet) => subnet.id),
      ["subnet-dev1", "subnet-dev2"],
    );
    const message = destroyRefusal("vpc-1", foreign) as string;
    assert.match(
      message,
      /^refusing to destroy the foundation: its VPC vpc-1 still holds 2 subnet\(s\) it does not own/,
    );
    assert.match(message, /subnet-dev1 10\.40\.0\.0\/19 platform-dev-private-eu-west-1a \(stack dev\)/);
    assert.match(
      message,
      /Destroy the stack\(s\) dev first \(pulumi destroy in each\), then the foundation\.$/,
    );
    assert.equal(destroyRefusal("vpc-1", []), undefined);
  });

  describe("against moto_server", function () {
    this.timeout(60_000);
    let moto: Moto;
    let restore: () => void = () => undefined;
    before(async function () {
      requireTool(this, "moto_server");
      restore = useFakeCredentials();
      moto = await startMoto();
    });
    after(async () => {
      restore();
      await moto?.stop();
    });

    it("lets the foundation go only once no cluster subnet is left in its VPC", async () => {
      const client = new EC2Client({ region: "eu-west-1", endpoint: moto.endpoint });
      const vpc = await client.send(new CreateVpcCommand({ CidrBlock: "10.0.0.0/16" }));
      const vpcId = vpc.Vpc?.VpcId as string;
      const own = await client.send(new CreateSubnetCommand({ VpcId: vpcId, CidrBlock: "10.0.0.0/22" }));
      const cluster = await client.send(
        new CreateSubnetCommand({
          VpcId: vpcId,
          CidrBlock: "10.0.64.0/19",
          TagSpecifications: [{ ResourceType: "subnet", Tags: [{ Key: "stack", Value: "dev" }] }],
        }),
      );
      const ownIds = [own.Subnet?.SubnetId as string];
      await assert.rejects(
        checkFoundationDestroy(client, vpcId, ownIds),
        /still holds 1 subnet\(s\).*\(stack dev\)/s,
      );
      // The cluster stack is destroyed: its subnet goes, and the foundation may follow.
      await client.send(new DeleteSubnetCommand({ SubnetId: cluster.Subnet?.SubnetId }));
      await checkFoundationDestroy(client, vpcId, ownIds);
    });
  });
});

describe("ops/foundation/cli.ts: the guard's command line", () => {
  it("answers --help (exit 0) and names a missing variable and where --help is", async () => {
    const log = console.log;
    console.log = () => undefined;
    try {
      assert.equal(await guardMain(["--help"], {}), 0);
    } finally {
      console.log = log;
    }
    await assert.rejects(
      guardMain([], { FOUNDATION_GUARD_REGION: "eu-west-1" }),
      /FOUNDATION_GUARD_VPC_ID is not set \(FoundationDestroyGuard passes it to this command; --help lists what it needs\)/,
    );
  });
});
