// Runs every test file, two at a time (2 cores), slowest first: `node --test` sorts the files it
// is given by name, which started the few that take minutes (the browser suites, the CLI's) among
// the last, to run alone at the end while the other core idled. `run()` keeps the order it is
// given. Test processes inherit this process's `--import tsx`. Exits 1 if any test failed.
import { existsSync, readdirSync } from "node:fs";
import { join, relative } from "node:path";
import { run } from "node:test";
import { tap } from "node:test/reporters";
import { fileURLToPath } from "node:url";

const ROOT = fileURLToPath(new URL("..", import.meta.url));

/** Minutes each in CI, longest first (measured from a fresh clone's `.ci/run`). */
const SLOWEST = [
  "test/integration/upload-page-flows.test.ts",
  "test/client/uppy-react.test.ts",
  "test/integration/cli-upload.test.ts",
  "test/integration/cli-secrets.test.ts",
  "test/integration/cli.test.ts",
  "test/integration/history.test.ts",
  "test/integration/invalid-keys.test.ts",
  "test/integration/cli-logs.test.ts",
];

function testFiles(dir: string): string[] {
  return readdirSync(join(ROOT, dir), { withFileTypes: true, recursive: true })
    .filter((entry) => entry.isFile() && entry.name.endsWith(".test.ts"))
    .map((entry) => relative(ROOT, join(entry.parentPath, entry.name)));
}

const missing = SLOWEST.filter((file) => !existsSync(join(ROOT, file)));
if (missing.length > 0) throw new Error(`scripts/run-tests.ts lists files that do not exist: ${missing.join(", ")}`);
const rest = [...testFiles("src"), ...testFiles("test")].filter((file) => !SLOWEST.includes(file)).sort();
const files = [...SLOWEST, ...rest].map((file) => join(ROOT, file));

const stream = run({ files, concurrency: 2 });
stream.on("test:fail", () => {
  process.exitCode = 1;
});
stream.compose(tap).pipe(process.stdout);
