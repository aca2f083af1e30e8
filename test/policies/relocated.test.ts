import { strict as assert } from "assert";
import { type ChildProcess, spawn } from "child_process";
import * as fs from "fs";
import * as os from "os";
import * as path from "path";
import * as grpc from "@grpc/grpc-js";
import { AnalyzerClient } from "@pulumi/pulumi/proto/analyzer_grpc_pb";
import * as pb from "@pulumi/pulumi/proto/analyzer_pb";
import { Empty } from "google-protobuf/google/protobuf/empty_pb";
import { Struct } from "google-protobuf/google/protobuf/struct_pb";
import { policies } from "../../policies/pack";
import { goodCluster } from "./support";

const root = path.join(__dirname, "..", "..");
const policiesDir = path.join(root, "policies");

/** Copies policies/ (not its node_modules) into a fresh folder outside the repository. */
function copyPack(target: string): void {
  fs.cpSync(policiesDir, target, {
    recursive: true,
    filter: (source) => path.basename(source) !== "node_modules",
  });
}

/**
 * "Installs" the pack's own dependencies offline: each package policies/package.json declares is linked from the
 * repository's node_modules, after checking the version there is the one declared. Nothing else is reachable
 * from the copy, so an import of a file outside policies/ or of an undeclared package fails here.
 */
function linkDependencies(target: string): Record<string, string> {
  const manifest = JSON.parse(fs.readFileSync(path.join(target, "package.json"), "utf8")) as {
    dependencies?: Record<string, string>;
  };
  const dependencies = manifest.dependencies ?? {};
  for (const [name, version] of Object.entries(dependencies)) {
    const installed = path.join(root, "node_modules", name);
    const actual = (
      JSON.parse(fs.readFileSync(path.join(installed, "package.json"), "utf8")) as { version: string }
    ).version;
    // @pulumi/policy writes its own version as "v1.21.0".
    assert.equal(
      actual.replace(/^v/, ""),
      version,
      `policies/package.json pins ${name}@${version}, the repository installs ${actual}`,
    );
    const link = path.join(target, "node_modules", name);
    fs.mkdirSync(path.dirname(link), { recursive: true });
    fs.symlinkSync(installed, link, "dir");
  }
  return dependencies;
}

const call = <T>(
  run: (callback: (error: grpc.ServiceError | null, response: T) => void) => unknown,
): Promise<T> =>
  new Promise((resolve, reject) => run((error, response) => (error ? reject(error) : resolve(response))));

const levels: Record<string, pb.EnforcementLevel> = {
  advisory: pb.EnforcementLevel.ADVISORY,
  mandatory: pb.EnforcementLevel.MANDATORY,
  disabled: pb.EnforcementLevel.DISABLED,
};

/** The Configure request the CLI sends for `--policy-pack-config <file>`: every policy, level and properties. */
function configureRequest(
  info: pb.AnalyzerInfo,
  packConfig: Record<string, unknown>,
): pb.ConfigureAnalyzerRequest {
  const request = new pb.ConfigureAnalyzerRequest();
  for (const policy of info.getPoliciesList()) {
    const own = packConfig[policy.getName()];
    const { enforcementLevel, ...properties } = (
      typeof own === "object" && own !== null ? own : {}
    ) as Record<string, unknown>;
    const level = typeof own === "string" ? own : (enforcementLevel as string | undefined);
    const config = new pb.PolicyConfig();
    config.setEnforcementlevel(level ? levels[level] : policy.getEnforcementlevel());
    config.setProperties(Struct.fromJavaScript(properties as Record<string, never>));
    request.getPolicyconfigMap().set(policy.getName(), config);
  }
  return request;
}

function options(): pb.AnalyzerResourceOptions {
  const result = new pb.AnalyzerResourceOptions();
  result.setCustomtimeouts(new pb.AnalyzerResourceOptions.CustomTimeouts());
  return result;
}

const urnOf = (type: string, name: string) => `urn:pulumi:prod::elsewhere::${type}::${name}`;

function stackResource(
  type: string,
  name: string,
  props: Record<string, unknown>,
  propertyDependencies: Record<string, string[]> = {},
): pb.AnalyzerResource {
  const resource = new pb.AnalyzerResource();
  resource.setType(type);
  resource.setName(name);
  resource.setUrn(urnOf(type, name));
  resource.setProperties(Struct.fromJavaScript(props as Record<string, never>));
  resource.setOptions(options());
  for (const [key, urns] of Object.entries(propertyDependencies)) {
    const dependencies = new pb.AnalyzerPropertyDependencies();
    dependencies.setUrnsList(urns);
    resource.getPropertydependenciesMap().set(key, dependencies);
  }
  return resource;
}

const diagnostics = (response: pb.AnalyzeResponse) =>
  response.getDiagnosticsList().map((diagnostic) => ({
    policy: diagnostic.getPolicyname(),
    level: diagnostic.getEnforcementlevel(),
    message: diagnostic.getMessage(),
  }));

describe("policies: the pack as a product of its own (copied out of the repository, served over gRPC)", function () {
  this.timeout(180_000);
  let folder: string;
  let child: ChildProcess | undefined;
  let client: AnalyzerClient;
  let info: pb.AnalyzerInfo;

  before(async () => {
    folder = fs.mkdtempSync(path.join(os.tmpdir(), "guardrails-"));
    // Nothing between the copy and / may hold a node_modules the copy could silently resolve from.
    for (let dir = path.dirname(folder); dir !== path.dirname(dir); dir = path.dirname(dir)) {
      assert.equal(fs.existsSync(path.join(dir, "node_modules")), false, `${dir}/node_modules`);
    }
    copyPack(folder);
    linkDependencies(folder);
    // The CLI's nodejs policy runner: `run-policy-pack <engine address> <program dir>`, type-checking index.ts.
    const runner = path.join(folder, "node_modules", "@pulumi", "pulumi", "cmd", "run-policy-pack");
    const started = spawn(process.execPath, [runner, "127.0.0.1:0", "."], {
      cwd: folder,
      stdio: ["ignore", "pipe", "pipe"],
    });
    child = started;
    let stderr = "";
    started.stderr.on("data", (chunk: Buffer) => (stderr += chunk.toString()));
    const port = await new Promise<string>((resolve, reject) => {
      started.stdout.on("data", (chunk: Buffer) => resolve(chunk.toString().trim()));
      started.on("exit", (code) => reject(new Error(`policy pack exited with ${code}: ${stderr}`)));
    });
    assert.match(port, /^\d+$/);
    client = new AnalyzerClient(`127.0.0.1:${port}`, grpc.credentials.createInsecure());
    info = await call<pb.AnalyzerInfo>((callback) => client.getAnalyzerInfo(new Empty(), callback));
  });

  after(() => {
    client?.close();
    child?.kill();
    if (folder) fs.rmSync(folder, { recursive: true, force: true });
  });

  it("declares every dependency it imports, at the versions the repository tests with", () => {
    const manifest = JSON.parse(fs.readFileSync(path.join(policiesDir, "package.json"), "utf8")) as {
      dependencies: Record<string, string>;
    };
    for (const name of ["@pulumi/policy", "@pulumi/pulumi", "typescript", "ts-node", "@types/node"]) {
      assert.ok(manifest.dependencies[name], name);
    }
  });

  it("starts from the copy and describes itself: name, version and every policy", () => {
    assert.equal(info.getName(), "eks-gitops-platform-guardrails");
    assert.match(info.getVersion(), /^\d+\.\d+\.\d+$/);
    assert.deepEqual(
      info.getPoliciesList().map((policy) => policy.getName()),
      policies.map((policy) => policy.name),
    );
  });

  it("judges a resource with the stack's pack config: environment from pack-settings, not from the resource's tag", async () => {
    const prod = JSON.parse(fs.readFileSync(path.join(folder, "config", "prod.json"), "utf8")) as Record<
      string,
      unknown
    >;
    await call((callback) => client.configure(configureRequest(info, prod), callback));
    const request = new pb.AnalyzeRequest();
    const type = "aws:eks/cluster:Cluster";
    request.setType(type);
    request.setName("platform");
    request.setUrn(urnOf(type, "platform"));
    request.setOptions(options());
    const cluster = goodCluster({
      roleArn: "arn:aws:iam::111122223333:role/cluster",
      computeConfig: {
        enabled: true,
        nodePools: ["system"],
        nodeRoleArn: "arn:aws:iam::111122223333:role/node",
      },
      encryptionConfig: {
        resources: ["secrets"],
        provider: { keyArn: "arn:aws:kms:eu-west-1:111122223333:key/x" },
      },
      vpcConfig: {
        endpointPrivateAccess: true,
        endpointPublicAccess: false,
        subnetIds: ["subnet-a", "subnet-b", "subnet-c"],
      },
      deletionProtection: false,
      version: "1.99",
      tags: { environment: "dev" },
    });
    request.setProperties(Struct.fromJavaScript(cluster as Record<string, never>));
    const response = await call<pb.AnalyzeResponse>((callback) => client.analyze(request, callback));
    assert.deepEqual(
      diagnostics(response).map(({ policy, level }) => [policy, level]),
      [
        ["eks-version-supported", pb.EnforcementLevel.MANDATORY],
        ["prod-deletion-protection", pb.EnforcementLevel.MANDATORY],
      ],
    );
  });

  it("judges the stack: two half-internet rules on one group are the internet, until the pack config exempts the group", async () => {
    const group = stackResource("aws:ec2/securityGroup:SecurityGroup", "public-alb", { vpcId: "vpc-1" });
    const rules = ["0.0.0.0/1", "128.0.0.0/1"].map((cidr, index) =>
      stackResource(
        "aws:vpc/securityGroupIngressRule:SecurityGroupIngressRule",
        `https-${index}`,
        { securityGroupId: "sg-1", cidrIpv4: cidr, ipProtocol: "tcp", fromPort: 443, toPort: 443 },
        { securityGroupId: [group.getUrn()] },
      ),
    );
    const request = new pb.AnalyzeStackRequest();
    request.setResourcesList([group, ...rules]);
    const exemption = {
      resource: "public-*",
      policy: "sg-no-public-ingress",
      reason: "internet-facing ALB, HTTPS only",
    };
    const run = async (settings: Record<string, unknown>) => {
      await call((callback) =>
        client.configure(configureRequest(info, { "pack-settings": settings }), callback),
      );
      return diagnostics(
        await call<pb.AnalyzeResponse>((callback) => client.analyzeStack(request, callback)),
      );
    };

    const open = await run({ environment: "prod" });
    assert.deepEqual(
      open.map(({ policy }) => policy),
      ["sg-no-public-ingress"],
    );
    assert.match(open[0].message, /accepts the whole IPv4 internet through its ingress rules together/);

    assert.deepEqual(
      await run({ environment: "prod", exemptions: [{ ...exemption, expires: "2999-12-31" }] }),
      [],
    );

    const expired = await run({ environment: "prod", exemptions: [{ ...exemption, expires: "2020-01-31" }] });
    assert.deepEqual(
      expired.map(({ policy, level }) => [policy, level]),
      [
        ["pack-settings", pb.EnforcementLevel.MANDATORY],
        ["sg-no-public-ingress", pb.EnforcementLevel.MANDATORY],
      ],
    );
  });
});
