/**
 * What end-to-end integrity costs the client: MB/s of the Content-MD5 the SDK computes before
 * each PUT, in Node (`node:crypto`, what the Node entry uses, and `@noble/hashes`, what browsers
 * get) and in Chromium (`@noble/hashes` over a Blob, as the browser SDK reads a `File`). The
 * reference is the speed of the upload it precedes: a part is hashed while other parts upload.
 *
 *   npm run bench -- integrity          (or: node --import tsx bench/integrity.ts)
 */
import { randomBytes } from "node:crypto";
import { build } from "esbuild";
import { browserMd5, nobleMd5 } from "../packages/client/src/md5.js";
import { cryptoMd5 } from "../packages/client/src/node.js";
import { blobSource } from "../packages/client/src/source.js";
import { launchBrowser } from "../test/helpers/browser.js";
import { main, output, progress } from "./lib/report.js";
import { MiB, ROOT, RUNS, SMOKE } from "./lib/settings.js";
import { median } from "./lib/stats.js";

const SIZE = (SMOKE ? 16 : 64) * MiB;

async function mbPerSecond(hash: () => Promise<unknown>): Promise<number> {
  const times: number[] = [];
  await hash(); // warm-up
  for (let i = 0; i < RUNS; i++) {
    const start = performance.now();
    await hash();
    times.push(performance.now() - start);
  }
  return SIZE / MiB / (median(times) / 1000);
}

/** The browser bundle's MD5s (hash-wasm, and noble where WebAssembly is refused), timed in headless Chromium over a Blob. */
async function inChromium(): Promise<{ wasm: number; noble: number }> {
  const bundle = await build({
    stdin: {
      contents: `import { browserMd5, nobleMd5 } from "./packages/client/src/md5.ts"; import { blobSource } from "./packages/client/src/source.ts";
        globalThis.bench = async (size, runs) => {
          const bytes = new Uint8Array(size);
          for (let at = 0; at < size; at += 65536) crypto.getRandomValues(bytes.subarray(at, at + 65536));
          const range = await blobSource(new Blob([bytes])).range(0, size);
          const time = async (md5) => {
            await md5(range);
            const times = [];
            for (let i = 0; i < runs; i++) { const t = performance.now(); await md5(range); times.push(performance.now() - t); }
            times.sort((a, b) => a - b);
            return times[Math.floor(times.length / 2)];
          };
          return [await time(browserMd5), await time(nobleMd5)];
        };`,
      resolveDir: ROOT,
      loader: "ts",
    },
    bundle: true,
    write: false,
    format: "esm",
    target: "es2022",
  });
  const browser = await launchBrowser();
  try {
    const page = await browser.newPage();
    await page.setContent("<!doctype html><title>md5</title>");
    await page.addScriptTag({ content: bundle.outputFiles[0]?.text ?? "", type: "module" });
    await page.waitForFunction(() => typeof (globalThis as { bench?: unknown }).bench === "function");
    type Bench = { bench(size: number, runs: number): Promise<[number, number]> };
    const [wasm, noble] = await page.evaluate(([size, runs]) => (globalThis as unknown as Bench).bench(size ?? 0, runs ?? 1), [SIZE, RUNS]);
    return { wasm: SIZE / MiB / (wasm / 1000), noble: SIZE / MiB / (noble / 1000) };
  } finally {
    await browser.close();
  }
}

async function run() {
  const out = output("integrity");
  const bytes = randomBytes(SIZE);
  const range = await blobSource(new Blob([bytes])).range(0, SIZE);
  const node = await mbPerSecond(() => cryptoMd5(range));
  const wasm = await mbPerSecond(() => browserMd5(range));
  const noble = await mbPerSecond(() => nobleMd5(range));
  progress("integrity", `node:crypto ${node.toFixed(0)}, hash-wasm ${wasm.toFixed(0)}, @noble/hashes ${noble.toFixed(0)} MiB/s in Node`);
  out.rows.push({ benchmark: "integrity: Content-MD5 in Node (node:crypto)", metric: "MiB/s hashed", unit: "MiB/s", stowage: node });
  out.rows.push({ benchmark: "integrity: Content-MD5 in Node (hash-wasm)", metric: "MiB/s hashed", unit: "MiB/s", stowage: wasm });
  out.rows.push({ benchmark: "integrity: Content-MD5 in Node (@noble/hashes)", metric: "MiB/s hashed", unit: "MiB/s", stowage: noble });
  const chromium = await inChromium();
  progress("integrity", `hash-wasm ${chromium.wasm.toFixed(0)}, @noble/hashes ${chromium.noble.toFixed(0)} MiB/s in Chromium`);
  out.rows.push({ benchmark: "integrity: Content-MD5 in Chromium (hash-wasm)", metric: "MiB/s hashed", unit: "MiB/s", stowage: chromium.wasm });
  out.rows.push({ benchmark: "integrity: Content-MD5 in Chromium (@noble/hashes)", metric: "MiB/s hashed", unit: "MiB/s", stowage: chromium.noble });
  out.notes.push(`integrity: ${SIZE / MiB} MiB in memory, median of ${RUNS} run(s) after a warm-up; Chromium headless (Debian), one page`);
  out.raw = { node, wasm, noble, chromium };
  return out;
}

await main(import.meta.url, run);
