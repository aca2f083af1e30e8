import { readFileSync } from "node:fs";
import { formatFindings, readStackConfig, SdkInventory, verifyStack } from ".";

/**
 * `npm run verify -- <stack>`: reads the deployed stack through the AWS SDK (credentials and AWS_ENDPOINT_URL from
 * the environment as usual) and reports every drift from its config. `--foundation <stack> --outputs <file>` does
 * the same for a foundation stack. Exit 1 on a mandatory drift, 2 on an error.
 */
export const verifyUsage = `usage: npm run verify -- <stack>
       npm run verify -- --foundation <stack> --outputs <file|->

Reads the deployed stack through the AWS SDK (credentials, region and AWS_ENDPOINT_URL from the environment as
usual) and reports every drift from its Pulumi.<stack>.yaml: endpoint access, encryption, logging, access entries,
subnets, IAM roles, the cluster's own resources left behind. Exit 0 when clean, 1 on a mandatory drift, 2 on an error.

--foundation <stack> checks a foundation stack (foundation/Pulumi.<stack>.yaml) from its stack outputs: the VPC and
its blocks and tags, the runner subnets (private, NAT only), each environment's CodeBuild runner (runner subnets and
its own security group only, logs encrypted, webhook on WORKFLOW_JOB_QUEUED), the runner security group (no ingress,
HTTPS out), the GitHub OIDC provider and the CI roles' trust (exact aud/sub). What the endpoint cannot answer is
printed as "skip … not checked", never as a pass.

options:
  --foundation <stack>   check this foundation stack instead of a cluster stack
  --outputs <file|->     the foundation's outputs: pulumi stack output --json (in foundation/), "-" for stdin
  -h, --help             this help

examples:
  AWS_PROFILE=platform-readonly npm run verify -- prod
  AWS_ENDPOINT_URL=http://127.0.0.1:5000 npm run verify -- dev     # against moto_server
  (cd foundation && pulumi stack output --json --stack acme/eks-gitops-foundation/eu-west-1) > outputs.json
  npm run verify -- --foundation eu-west-1 --outputs outputs.json`;

/** A user error: printed with the usage line, exit 2. */
class UsageError extends Error {}

function foundationArgs(argv: readonly string[]): { stack: string; outputs: string } {
  const value = (flag: string) => {
    const index = argv.indexOf(flag);
    if (index < 0) return undefined;
    const found = argv[index + 1];
    if (found === undefined || (found.startsWith("-") && found !== "-"))
      throw new UsageError(`${flag} needs a value`);
    return found;
  };
  const stack = value("--foundation") as string;
  const outputs = value("--outputs");
  if (outputs === undefined)
    throw new UsageError(
      `--outputs is required with --foundation: write them with \`pulumi stack output --json --stack <organization>/eks-gitops-foundation/${stack}\` in foundation/, and pass the file (or - for stdin)`,
    );
  const known = new Set(["--foundation", stack, "--outputs", outputs]);
  const extra = argv.filter((arg) => !known.has(arg));
  if (extra.length > 0) throw new UsageError(`unexpected argument(s) ${extra.join(" ")}`);
  return { stack, outputs };
}

export async function main(argv: readonly string[]): Promise<number> {
  if (argv.includes("--help") || argv.includes("-h")) {
    process.stdout.write(`${verifyUsage}\n`);
    return 0;
  }
  try {
    if (argv.includes("--foundation")) {
      const args = foundationArgs(argv);
      // Loaded only here: the foundation's checks bring the CodeBuild client and @pulumi/aws (the webhook filters).
      const { readFoundationOutputs, readFoundationStackConfig, verifyFoundation } =
        // eslint-disable-next-line @typescript-eslint/no-require-imports
        require("./foundation-stack") as typeof import("./foundation-stack");
      const config = readFoundationStackConfig(args.stack);
      const text = readFileSync(args.outputs === "-" ? 0 : args.outputs, "utf8");
      const outputs = readFoundationOutputs(text, args.outputs, args.stack);
      const { findings, exitCode } = await verifyFoundation(config, outputs);
      process.stdout.write(`${formatFindings(`foundation/${args.stack}`, findings)}\n`);
      return exitCode;
    }
    const [stack, ...rest] = argv;
    if (!stack || stack.startsWith("-")) throw new UsageError("name a stack");
    if (rest.length > 0) throw new UsageError(`unexpected argument(s) ${rest.join(" ")}`);
    const config = readStackConfig(stack);
    const { findings, exitCode } = await verifyStack(config, new SdkInventory({ region: config.region }));
    process.stdout.write(`${formatFindings(stack, findings)}\n`);
    return exitCode;
  } catch (error) {
    if (!(error instanceof UsageError)) throw error;
    process.stderr.write(
      `verify: ${error.message}\n${verifyUsage.split("\n").slice(0, 2).join("\n")}\n(npm run verify -- --help for more)\n`,
    );
    return 2;
  }
}

if (require.main === module) {
  main(process.argv.slice(2)).then(
    (code) => (process.exitCode = code),
    (error: unknown) => {
      process.stderr.write(`verify: ${(error as Error).message}\n`);
      process.exitCode = 2;
    },
  );
}
