import { formatFindings, readStackConfig, SdkInventory, verifyStack } from ".";

/**
 * `npm run verify -- <stack>`: reads the deployed stack through the AWS SDK (credentials and AWS_ENDPOINT_URL from
 * the environment as usual) and reports every drift from its config. Exit 1 on a mandatory drift, 2 on an error.
 */
export async function main(argv: readonly string[]): Promise<number> {
  const [stack] = argv;
  if (!stack || stack.startsWith("-")) {
    process.stderr.write("usage: npm run verify -- <stack>\n");
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
