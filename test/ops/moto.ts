import { ChildProcess, spawn, spawnSync } from "node:child_process";
import { createServer } from "node:net";
import { projectRoot } from "../../infra/project";

/** A moto_server (AWS API emulator, on this machine image) on a free loopback port, for the tests' lifetime. */
export interface Moto {
  readonly endpoint: string;
  stop(): Promise<void>;
}

async function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const server = createServer();
    server.once("error", reject);
    server.listen(0, "127.0.0.1", () => {
      const address = server.address();
      server.close(() =>
        typeof address === "object" && address ? resolve(address.port) : reject(new Error("no port")),
      );
    });
  });
}

export async function startMoto(): Promise<Moto> {
  const port = await freePort();
  const endpoint = `http://127.0.0.1:${port}`;
  const child: ChildProcess = spawn("moto_server", ["-H", "127.0.0.1", "-p", String(port)], {
    stdio: ["ignore", "ignore", "pipe"],
  });
  let stderr = "";
  child.stderr?.on("data", (chunk: Buffer) => (stderr += chunk.toString()));
  const spawnFailed = new Promise<never>((_, reject) =>
    child.once("error", (error) => reject(new Error(`cannot start moto_server: ${error.message}`))),
  );
  const deadline = Date.now() + 30_000;
  const ready = (async () => {
    while (Date.now() < deadline) {
      try {
        if ((await fetch(`${endpoint}/moto-api/`)).ok) return;
      } catch {
        // not listening yet
      }
      if (child.exitCode !== null) throw new Error(`moto_server exited ${child.exitCode}: ${stderr}`);
      await new Promise((resolve) => setTimeout(resolve, 200));
    }
    throw new Error(`moto_server did not answer on ${endpoint} within 30 s: ${stderr}`);
  })();
  try {
    await Promise.race([ready, spawnFailed]);
  } catch (error) {
    child.kill();
    throw error;
  }
  return {
    endpoint,
    stop: () =>
      new Promise<void>((resolve) => {
        if (child.exitCode !== null) return resolve();
        child.once("exit", () => resolve());
        child.kill("SIGTERM");
      }),
  };
}

/** Fake credentials so the SDK signs requests; moto accepts any. */
export function useFakeCredentials(): () => void {
  const saved = { ...process.env };
  Object.assign(process.env, {
    AWS_ACCESS_KEY_ID: "testing",
    AWS_SECRET_ACCESS_KEY: "testing",
    AWS_SESSION_TOKEN: "testing",
  });
  delete process.env.AWS_PROFILE;
  return () => {
    for (const key of ["AWS_ACCESS_KEY_ID", "AWS_SECRET_ACCESS_KEY", "AWS_SESSION_TOKEN", "AWS_PROFILE"]) {
      if (saved[key] === undefined) delete process.env[key];
      else process.env[key] = saved[key];
    }
  };
}

/**
 * `npm run verify -- <args>` exactly as a user runs it, against moto: the real CLI in a child process, the real AWS
 * SDK clients, only AWS_ENDPOINT_URL pointing elsewhere (and fake credentials).
 */
export function runVerify(moto: Moto, args: readonly string[], input?: string) {
  const result = spawnSync("npm", ["run", "--silent", "verify", "--", ...args], {
    cwd: projectRoot,
    input,
    encoding: "utf8",
    env: {
      ...process.env,
      AWS_ENDPOINT_URL: moto.endpoint,
      AWS_ACCESS_KEY_ID: "testing",
      AWS_SECRET_ACCESS_KEY: "testing",
      AWS_PROFILE: "",
      AWS_SDK_JS_SUPPRESS_MAINTENANCE_MODE_MESSAGE: "1",
    },
    timeout: 180_000,
  });
  return { status: result.status, stdout: result.stdout, stderr: result.stderr };
}

/** A clock the drain waits on without waiting: sleeping only moves it on. */
export class FakeClock {
  time = 0;
  now(): number {
    return this.time;
  }
  async sleep(ms: number): Promise<void> {
    this.time += ms;
  }
}
