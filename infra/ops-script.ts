/**
 * How a `command.local.Command` runs one of the repository's tested ops scripts (teardown drain, destroy guards,
 * fleet registration): with the project's own node_modules, never fetching a package at destroy time.
 */
export function opsScript(script: string, ...args: string[]): string {
  return ["npx --no-install ts-node --transpile-only", script, ...args].join(" ");
}
