import { mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import * as path from "node:path";
import { kubectlRunner, KubectlRunner } from "../teardown/kubectl";

/**
 * Runs `action` with kubectl pointed at the hub (its kubeconfig, passed by the Pulumi command, written to a private
 * temporary directory that is removed afterwards, also the place for files kubectl reads).
 */
export async function withHubKubectl<T>(
  kubeconfig: string | undefined,
  variable: string,
  action: (run: KubectlRunner, workDir: string) => Promise<T>,
): Promise<T> {
  if (!kubeconfig) throw new Error(`${variable} is not set (the fleet component passes it to this command)`);
  const workDir = mkdtempSync(path.join(tmpdir(), "fleet-hub-"));
  try {
    const file = path.join(workDir, "kubeconfig");
    writeFileSync(file, kubeconfig, { mode: 0o600 });
    return await action(kubectlRunner(file), workDir);
  } finally {
    rmSync(workDir, { recursive: true, force: true });
  }
}
