import { join } from "node:path";
import { freePort, type Proc, startProcess } from "./proc.js";
import { ROOT, SERVER_CPU, tsxNodeArgs } from "./settings.js";

/**
 * The bare Fastify route (`bench/servers/bare-fastify.ts`) on the server's core: `POST /v1/uploads`
 * answering `responseBytes` of JSON, what one HTTP request costs with no work behind it; with
 * `commit` (`postgres://…` or `sqlite:<file>`), plus one durable write a request: a plain row, or
 * with `as: "store"` a pending upload recorded through Stowage's own store.
 */
export async function startBare(responseBytes: number, commit?: string, as: "row" | "store" = "row"): Promise<{ proc: Proc; baseUrl: string }> {
  const port = await freePort();
  const proc = await startProcess({
    name: commit === undefined ? "bare-fastify" : `bare-fastify-${commit.split(":")[0] ?? ""}-${as}`,
    command: process.execPath,
    args: [...tsxNodeArgs(), join(ROOT, "bench/servers/bare-fastify.ts")],
    cwd: ROOT,
    cpu: SERVER_CPU,
    env: { PATH: process.env.PATH ?? "", NODE_ENV: "production", PORT: String(port), RESPONSE_BYTES: String(responseBytes), ...(commit === undefined ? {} : { COMMIT: commit, COMMIT_AS: as }) },
    ready: (out) => out.includes("bare fastify listening"),
  });
  return { proc, baseUrl: `http://127.0.0.1:${port}` };
}
