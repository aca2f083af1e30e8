import { strict as assert } from "node:assert";
import {
  CloudWatchLogsClient,
  CreateLogGroupCommand,
  PutRetentionPolicyCommand,
} from "@aws-sdk/client-cloudwatch-logs";
import { CreateSubnetCommand, CreateVpcCommand, EC2Client } from "@aws-sdk/client-ec2";
import { CreateClusterCommand, EKSClient } from "@aws-sdk/client-eks";
import { CreateKeyCommand, EnableKeyRotationCommand, KMSClient } from "@aws-sdk/client-kms";
import { platformRoleNames } from "../../infra/config/roles";
import { readStackConfig } from "../../ops/verify";
import { requireTool } from "../support/tools";
import { Moto, runVerify, startMoto } from "./moto";

/**
 * `npm run verify -- <stack>` exactly as a user runs it, against moto_server: the real CLI in a child process, the
 * real AWS SDK clients, only AWS_ENDPOINT_URL pointing elsewhere. No injected fake: what moto does not implement
 * must show up as "not checked", never as a crash (exit code 2).
 */

const credentials = { accessKeyId: "testing", secretAccessKey: "testing" };

describe("npm run verify against moto_server (the real CLI, no fakes)", function () {
  this.timeout(240_000);
  let moto: Moto;
  const config = readStackConfig("dev");
  before(async function () {
    requireTool(this, "moto_server");
    moto = await startMoto();
  });
  after(async () => moto?.stop());

  it("reports a missing cluster as drift (exit 1), not as an error", () => {
    const { status, stdout, stderr } = runVerify(moto, ["dev"]);
    assert.equal(status, 1, stderr);
    assert.match(stdout, /DRIFT cluster exists/);
  });

  it("checks a deployed cluster and reports the access-entry API moto lacks as not checked (no crash)", async () => {
    const client = { region: config.region, endpoint: moto.endpoint, credentials };
    const ec2 = new EC2Client(client);
    const vpc = (await ec2.send(new CreateVpcCommand({ CidrBlock: config.network.vpcCidr }))).Vpc!;
    const subnetIds: string[] = [];
    for (const [index, zone] of ["a", "b", "c"].entries()) {
      const subnet = await ec2.send(
        new CreateSubnetCommand({
          VpcId: vpc.VpcId,
          CidrBlock: config.network.vpcCidr.replace(/\.0\.0\/16$/, `.${index * 32}.0/19`),
          AvailabilityZone: `${config.region}${zone}`,
        }),
      );
      subnetIds.push(subnet.Subnet!.SubnetId!);
    }
    const kms = new KMSClient(client);
    const key = (await kms.send(new CreateKeyCommand({}))).KeyMetadata!;
    await kms.send(new EnableKeyRotationCommand({ KeyId: key.KeyId }));
    const logs = new CloudWatchLogsClient(client);
    const logGroupName = `/aws/eks/${config.cluster.name}/cluster`;
    await logs.send(new CreateLogGroupCommand({ logGroupName }));
    await logs.send(
      new PutRetentionPolicyCommand({ logGroupName, retentionInDays: config.cluster.logRetentionDays }),
    );
    await new EKSClient(client).send(
      new CreateClusterCommand({
        name: config.cluster.name,
        version: config.cluster.kubernetesVersion,
        roleArn: "arn:aws:iam::123456789012:role/platform-dev-cluster",
        resourcesVpcConfig: { subnetIds, endpointPrivateAccess: true, endpointPublicAccess: false },
        encryptionConfig: [{ resources: ["secrets"], provider: { keyArn: key.Arn } }],
        logging: {
          clusterLogging: [
            { enabled: true, types: ["api", "audit", "authenticator", "controllerManager", "scheduler"] },
          ],
        },
      }),
    );

    const { status, stdout, stderr } = runVerify(moto, ["dev"]);
    assert.ok(status === 0 || status === 1, `exit ${status}: a crash is exit 2\n${stderr}\n${stdout}`);
    assert.doesNotMatch(stderr, /^verify:/m, "no error escaped the CLI");
    assert.match(stdout, /^Live check of stack dev: \d+ checks/);
    assert.match(stdout, /^ok {4}private endpoint access/m);
    assert.match(stdout, /^skip {2}access entries: not checked: eks:ListAccessEntries is not supported/m);
    // moto's describe-cluster reports no cluster security group: its rules cannot be read there.
    assert.match(stdout, /^skip {2}cluster security group ingress: not checked/m);
    assert.doesNotMatch(stdout, /DRIFT cluster exists/);
    // IAM is read through @aws-sdk/client-iam: no role was created here, so the cluster role is missing.
    assert.ok(
      stdout.includes(`DRIFT IAM role ${platformRoleNames.cluster(config.cluster.name)}: expected exists`),
      stdout,
    );
  });
});
