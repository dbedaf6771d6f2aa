import assert from "node:assert/strict";
import { execFile } from "node:child_process";
import { join } from "node:path";
import { before, describe, it } from "node:test";
import { promisify } from "node:util";
import { ROOT } from "../helpers/cli.js";

const run = promisify(execFile);
const PACKAGE_DIR = join(ROOT, "packages/client");

/** Runs an ES module snippet in a new Node from the repository root, where npm links the workspace. */
async function nodeEval(code: string): Promise<string> {
  const { stdout } = await run(process.execPath, ["--input-type=module", "-e", code], { cwd: ROOT });
  return stdout.trim();
}

/**
 * `@stowage/client` as a user of the published package gets it: built by its own build, packed
 * by npm, imported by name. The other client tests import the SDK's sources.
 */
describe("@stowage/client as a package", () => {
  let files: string[];
  before(async () => {
    await run("npm", ["run", "-s", "build"], { cwd: PACKAGE_DIR });
    const { stdout } = await run("npm", ["pack", "--dry-run", "--json", "--ignore-scripts"], { cwd: PACKAGE_DIR });
    files = (JSON.parse(stdout) as [{ files: { path: string }[] }])[0].files.map((f) => f.path);
  });

  it("packs every entry point with its type declarations, and nothing of the server but the contract", async () => {
    const manifest = (await import(join(PACKAGE_DIR, "package.json"), { with: { type: "json" } })).default as {
      exports: Record<string, Record<string, string>>;
    };
    const targets = Object.values(manifest.exports).flatMap((conditions) => Object.values(conditions));
    assert.ok(targets.length >= 9, JSON.stringify(manifest.exports));
    for (const target of targets) assert.ok(files.includes(target.replace(/^\.\//, "")), `${target} is not in the package`);
    // Beside the SDK, only the contract its declarations name: the API schemas, the error codes, the statuses.
    const outside = files.filter((f) => f.startsWith("dist/") && !f.startsWith("dist/packages/client/src/"));
    assert.ok(outside.length > 0);
    for (const file of outside) assert.match(file, /^dist\/src\/(api\/[\w-]+|errors|uploads\/status)\.(js|d\.ts)(\.map)?$/, file);
    assert.equal(files.some((f) => f.endsWith(".test.js")), false, "no tests in the package");
  });

  it("imports by name in Node: the Node entry by default, and each subpath", async () => {
    const keys = await nodeEval(`
      const main = await import("@stowage/client");
      const node = await import("@stowage/client/node");
      const uppy = await import("@stowage/client/uppy");
      const react = await import("@stowage/client/react");
      console.log(JSON.stringify({
        main: typeof main.createClient, mainFile: typeof main.fileResumeStore, same: main.createClient === node.createClient,
        uppy: typeof uppy.StowageUploader, react: typeof react.useUpload,
      }));`);
    assert.deepEqual(JSON.parse(keys), { main: "function", mainFile: "function", same: true, uppy: "function", react: "function" });
  });

  it("its browser entry loads without Node: no node: import anywhere it reaches", async () => {
    const reached = await nodeEval(`
      import { readFileSync } from "node:fs";
      import { dirname, resolve } from "node:path";
      const root = resolve("packages/client/dist/packages/client/src/index.js");
      const seen = new Set(); const bare = new Set(); const queue = [root];
      while (queue.length > 0) {
        const file = queue.pop();
        if (seen.has(file)) continue;
        seen.add(file);
        for (const [, spec] of readFileSync(file, "utf8").matchAll(/(?:from|import)\\s*\\(?\\s*"([^"]+)"/g)) {
          if (spec.startsWith(".")) queue.push(resolve(dirname(file), spec)); else bare.add(spec);
        }
      }
      console.log(JSON.stringify({ files: seen.size, bare: [...bare].sort() }));`);
    const { files: count, bare } = JSON.parse(reached) as { files: number; bare: string[] };
    assert.ok(count > 5, `followed ${count} files`);
    for (const spec of bare) assert.doesNotMatch(spec, /^node:|^(fs|path|crypto|stream|http|https|os|url)$/, `the browser entry reaches ${spec}`);
    assert.ok(bare.includes("hash-wasm"), JSON.stringify(bare));
  });
});
