import { existsSync } from "node:fs";
import { join, resolve } from "node:path";
import type { Config } from "../config/schema.js";
import { copyObjects, type CopyResult, tallyObjects } from "../storage/copy.js";
import { storageFromConfig } from "../storage/from-config.js";
import { LocalDriver } from "../storage/local/local-driver.js";
import { checkBuckets } from "../storage/s3/check.js";

export interface CopyCommandOptions {
  /** The local storage directory (`objects/`, `meta/`), usually `{dataDir}/storage`. */
  fromDir: string;
  dryRun: boolean;
}

const MiB = 1024 * 1024;
const mib = (bytes: number) => `${(bytes / MiB).toFixed(1)} MiB`;

/**
 * `stowage storage copy --from local --to s3`: moves a deployment off the embedded local disk.
 * The target is the S3 storage this environment configures; the source is the local layout
 * under the same logical buckets, so keys and buckets, and with them every database record,
 * stay as they are.
 */
export async function copyToS3(config: Config, options: CopyCommandOptions): Promise<void> {
  const { s3 } = storageFromConfig(config);
  if (s3 === undefined) {
    throw new Error(
      "storage copy --to s3 writes to the S3 storage configured in the environment, but the configured storage is local: " +
      "run it with STOWAGE_STORAGE=s3 and the STOWAGE_S3_* settings (or R2_* / MINIO_*) Stowage will use",
    );
  }
  const root = resolve(options.fromDir);
  if (!existsSync(join(root, "objects"))) {
    throw new Error(`no local objects at ${join(root, "objects")}: point --from-dir at the local storage directory (the one holding objects/ and meta/)`);
  }
  // Wrong credentials or a missing bucket would otherwise fail every object one by one.
  const problems = (await checkBuckets(s3)).flatMap((check) => (check.ok ? [] : [check.problem]));
  if (problems.length > 0) throw new Error(problems.join("\n"));

  // Only bucket names and the layout matter to the source: nothing here signs URLs.
  const source = new LocalDriver({ root, baseUrl: config.baseUrl, signingSecret: config.signingSecret, buckets: config.buckets });
  const buckets = Object.keys(config.buckets);
  const controller = new AbortController();
  // Ctrl-C stops cleanly between (or in the middle of) objects; a second one kills as usual.
  const interrupt = () => controller.abort(new Error("interrupted"));
  process.once("SIGINT", interrupt);
  try {
    const total = await tallyObjects(source, buckets, { signal: controller.signal });
    const results = copyObjects(source, s3, buckets, { dryRun: options.dryRun, signal: controller.signal });
    await report(results, total, options.dryRun, controller.signal);
  } finally {
    process.off("SIGINT", interrupt);
  }
}

/** Prints results as they come, then the summary; throws (exit 1) if anything failed. */
async function report(
  results: AsyncIterable<CopyResult>,
  total: { objects: number; bytes: number },
  dryRun: boolean,
  signal: AbortSignal,
): Promise<void> {
  const started = performance.now();
  const count = { copied: 0, skipped: 0, failed: 0, "would-copy": 0, invalid: 0 };
  let bytes = 0;
  const progress = new Progress(total.objects);
  const summary = () => {
    const seconds = ((performance.now() - started) / 1000).toFixed(1);
    const invalid = count.invalid > 0 ? ` ${count.invalid} entries are not valid object keys and were left out.` : "";
    return dryRun
      ? `Dry run: would copy ${count["would-copy"]} objects (${mib(bytes)}); ${count.skipped} already in S3; ${count.failed} could not be checked. Nothing was copied.${invalid}`
      : `Copied ${count.copied}, skipped ${count.skipped} (already in S3), failed ${count.failed} of ${total.objects} objects; ${mib(bytes)} copied in ${seconds} s.${invalid}`;
  };
  try {
    for await (const result of results) {
      count[result.outcome]++;
      if (result.outcome === "copied" || result.outcome === "would-copy") bytes += result.size;
      if (result.outcome === "would-copy") progress.print(`would copy  ${result.bucket}/${result.key}  ${result.size} bytes\n`, "stdout");
      if (result.outcome === "failed") progress.print(`failed  ${result.bucket}/${result.key}: ${result.error}\n`, "stderr");
      // Quoted: such a name may hold control characters that would garble the terminal.
      if (result.outcome === "invalid") progress.print(`invalid  ${JSON.stringify(`${result.bucket}/${result.key}`)}: ${result.error}\n`, "stderr");
      progress.update(bytes, dryRun);
    }
  } catch (error) {
    progress.end();
    process.stdout.write(`${summary()}\n`);
    if (signal.aborted) {
      throw new Error("interrupted; run the same command again to continue (objects already copied are skipped)", { cause: error });
    }
    throw error;
  }
  progress.end();
  process.stdout.write(`${summary()}\n`);
  if (count.failed > 0) {
    throw new Error(`${count.failed} object(s) failed (listed above); run the same command again to retry them, copied ones are skipped`);
  }
  if (count.invalid > 0) {
    // Running again cannot fix these: the copy is incomplete until someone renames or removes them.
    throw new Error(`${count.invalid} entries are not valid object keys (listed above) and were not copied; rename or remove them`);
  }
}

/**
 * Progress on stderr (stdout stays the report): one line redrawn in place on a terminal, a
 * plain line every 100 objects otherwise, so logs of a long run stay readable.
 */
class Progress {
  readonly #total: number;
  readonly #tty = process.stderr.isTTY;
  #done = 0;
  #drawnAt = 0;

  constructor(total: number) {
    this.#total = total;
  }

  update(bytes: number, dryRun: boolean): void {
    this.#done++;
    const line = `${this.#done}/${this.#total} objects, ${mib(bytes)} ${dryRun ? "to copy" : "copied"}`;
    if (!this.#tty) {
      if (this.#done % 100 === 0) process.stderr.write(`${line}\n`);
      return;
    }
    // Redrawing for every small object would spend the run painting the terminal.
    const now = performance.now();
    if (now - this.#drawnAt < 100 && this.#done < this.#total) return;
    this.#drawnAt = now;
    process.stderr.write(`\r${line}\x1b[K`);
  }

  /** Writes a whole line, first clearing the progress line it would otherwise run into. */
  print(text: string, stream: "stdout" | "stderr"): void {
    if (this.#tty) process.stderr.write("\r\x1b[K");
    process[stream].write(text);
  }

  end(): void {
    if (this.#tty && this.#done > 0) process.stderr.write("\n");
  }
}
