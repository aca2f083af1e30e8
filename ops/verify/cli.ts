import { formatFindings, readStackConfig, SdkInventory, verifyStack } from ".";

/**
 * `npm run verify -- <stack>`: reads the deployed stack through the AWS SDK (credentials and AWS_ENDPOINT_URL from
 * the environment as usual) and reports every drift from its config. Exit 1 on a mandatory drift, 2 on an error.
 */
export const verifyUsage = `usage: npm run verify -- <stack>

Reads the deployed stack through the AWS SDK (credentials, region and AWS_ENDPOINT_URL from the environment as
usual) and reports every drift from its Pulumi.<stack>.yaml: endpoint access, encryption, logging, access entries,
subnets, IAM roles, resources left behind. Exit 0 when clean, 1 on a mandatory drift, 2 on an error.

examples:
  AWS_PROFILE=platform-readonly npm run verify -- prod
  AWS_ENDPOINT_URL=http://127.0.0.1:5000 npm run verify -- dev     # against moto_server`;

export async function main(argv: readonly string[]): Promise<number> {
  if (argv.includes("--help") || argv.includes("-h")) {
    process.stdout.write(`${verifyUsage}\n`);
    return 0;
  }
  const [stack] = argv;
  if (!stack || stack.startsWith("-")) {
    process.stderr.write(`${verifyUsage.split("\n")[0]}\n(npm run verify -- --help for more)\n`);
    return 2;
  }
  const config = readStackConfig(stack);
  const { findings, exitCode } = await verifyStack(config, new SdkInventory({ region: config.region }));
  process.stdout.write(`${formatFindings(stack, findings)}\n`);
  return exitCode;
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
