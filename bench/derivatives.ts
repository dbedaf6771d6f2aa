/**
 * Image derivatives: avatar thumbnails (the built-in `thumb` preset, 256×256 cover WebP) made
 * from 12-megapixel (4000×3000) JPEGs by `renderDerivative`, per second and with the process's
 * peak RSS, against sharp in the same process and run: the same thumbnail through a bare sharp
 * pipeline (none of our checks), and a full decode of the JPEG to raw pixels.
 *
 *   npm run bench -- derivatives          (or: node --import tsx bench/derivatives.ts)
 */
import { readFileSync, writeFileSync } from "node:fs";
import sharp from "sharp";
import { hardenSharp } from "../src/derivatives/harden.js";
import { renderDerivative } from "../src/derivatives/render.js";
import { BUILTIN_POLICIES } from "../src/policies/builtins.js";
import { noisyJpeg } from "../test/helpers/images.js";
import { judge, main, output, progress } from "./lib/report.js";
import { MiB, RUNS, SECONDS, SMOKE, WARMUP_SECONDS } from "./lib/settings.js";
import { median } from "./lib/stats.js";

const thumb = BUILTIN_POLICIES.find((p) => p.ownerType === "avatar")?.derivatives?.thumb;
if (thumb === undefined) throw new Error("the built-in avatar policy has no thumb preset");
const preset = thumb;

const RENDER = "renderDerivative (avatar thumb)";
const BARE = "bare sharp, same thumb";
const DECODE = "sharp decode to raw";

/** The kernel's peak RSS of this process (VmHWM), reset between cases (`clear_refs` ← 5). */
function peakRss(): number {
  return Number(/VmHWM:\s+(\d+) kB/.exec(readFileSync("/proc/self/status", "utf8"))?.[1] ?? 0) * 1024;
}
function resetPeakRss(): boolean {
  try {
    writeFileSync("/proc/self/clear_refs", "5");
    return true;
  } catch {
    return false;
  }
}

/** Operations per second: sequential awaited calls for `ms`, cycling through the inputs. */
async function measure(fn: (input: Buffer) => Promise<unknown>, inputs: readonly Buffer[], ms: number): Promise<number> {
  let count = 0;
  const start = performance.now();
  while (performance.now() - start < ms || count === 0) {
    await fn(inputs[count % inputs.length] as Buffer);
    count++;
  }
  return (count * 1000) / (performance.now() - start);
}

async function run() {
  const out = output("derivatives");
  hardenSharp(); // as in the service: the baselines run under the same loader block and cache setting
  const photos: Buffer[] = [];
  for (let i = 0; i < (SMOKE ? 1 : 3); i++) photos.push(await noisyJpeg(4000, 3000, 85 - i * 5));
  progress("derivatives", `${photos.length} × 4000×3000 JPEG, ${(photos.reduce((n, p) => n + p.length, 0) / photos.length / MiB).toFixed(1)} MiB each`);

  const cases: [string, (input: Buffer) => Promise<unknown>][] = [
    [RENDER, (input) => renderDerivative({ input, contentType: "image/jpeg", preset })],
    [BARE, (input) => sharp(input).resize({ width: preset.width, height: preset.height, fit: preset.fit }).webp().toBuffer()],
    [DECODE, (input) => sharp(input).raw().toBuffer()],
  ];
  const perCaseMs = (SECONDS * 1000) / RUNS;
  const rates: Record<string, number[]> = {};
  const peaks: Record<string, number> = {};
  /** Peak RSS above the RSS at the start of the round: what the work itself added. */
  const growths: Record<string, number> = {};
  const rssBefore = process.memoryUsage.rss();
  const kernelPeaks = resetPeakRss();
  for (const [, fn] of cases) await measure(fn, photos, WARMUP_SECONDS * 300);
  for (let round = 0; round < RUNS; round++) {
    for (const [name, fn] of cases) {
      const start = process.memoryUsage.rss();
      resetPeakRss();
      (rates[name] ??= []).push(await measure(fn, photos, perCaseMs));
      const peak = kernelPeaks ? peakRss() : process.memoryUsage.rss();
      peaks[name] = Math.max(peaks[name] ?? 0, peak);
      growths[name] = Math.max(growths[name] ?? 0, peak - start);
    }
  }
  const rate = Object.fromEntries(Object.entries(rates).map(([name, xs]) => [name, median(xs)]));
  for (const [name] of cases) {
    const mib = (bytes: number | undefined) => ((bytes ?? 0) / MiB).toFixed(0);
    progress("derivatives", `${name.padEnd(34)} ${(rate[name] ?? 0).toFixed(1).padStart(7)} /s   peak RSS ${mib(peaks[name])} MiB (+${mib(growths[name])})`);
  }
  const mine = rate[RENDER] ?? Number.NaN;
  for (const baseline of [BARE, DECODE]) {
    const theirs = rate[baseline] ?? Number.NaN;
    out.rows.push({
      benchmark: "derivatives (12 MP JPEG → avatar thumb)", metric: "thumbnails per second", unit: "/s", stowage: mine,
      baseline: theirs, baselineName: baseline, ratio: mine / theirs,
      ...(baseline === BARE ? { target: "≥ 90 % of bare sharp", met: judge(mine >= 0.9 * theirs) } : {}),
    });
  }
  for (const [name] of cases) {
    out.rows.push({ benchmark: `derivatives: ${name}`, metric: "peak RSS of the process", unit: "MiB", stowage: (peaks[name] ?? 0) / MiB });
    out.rows.push({ benchmark: `derivatives: ${name}`, metric: "peak RSS growth during the case", unit: "MiB", stowage: (growths[name] ?? 0) / MiB });
  }
  out.notes.push(
    `derivatives: in process, one image at a time, ${RUNS} interleaved round(s) of ${(perCaseMs / 1000).toFixed(1)} s per case, median; ` +
    `sharp ${sharp.versions.sharp}, libvips ${sharp.versions.vips}, ${sharp.concurrency()} libvips thread(s) per image ` +
    "(sharp's default on glibc without jemalloc), libvips cache off; the runner pins this process to one CPU.",
    `derivatives: peak RSS is the process's kernel high-water mark${kernelPeaks ? ", reset before each case" : " (not resettable here: cumulative)"}; ` +
    `a thumbnail decodes the JPEG at 1/8 scale (shrink-on-load), the raw decode at full size (36 MB of pixels); RSS before the cases ${(rssBefore / MiB).toFixed(0)} MiB ` +
    "(Node, tsx and the input JPEGs).",
  );
  out.raw = { rates, peaks, growths, rssBefore, inputBytes: photos.map((p) => p.length) };
  return out;
}

await main(import.meta.url, run);
