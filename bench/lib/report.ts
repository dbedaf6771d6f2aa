import { writeFileSync } from "node:fs";
import { SMOKE } from "./settings.js";

/**
 * One line of the results table. `ratio` is Stowage ÷ baseline unless `ratioKind` says
 * `speed-up` (baseline ÷ Stowage, for "how many times faster"); each row states its target in
 * the same terms as its ratio or value, and `met` is left undefined when nothing is judged.
 */
export interface Row {
  benchmark: string;
  metric: string;
  unit: string;
  stowage: number;
  baseline?: number | undefined;
  baselineName?: string | undefined;
  ratio?: number | undefined;
  ratioKind?: "ratio" | "speed-up";
  target?: string | undefined;
  met?: boolean | undefined;
}

/** What one benchmark file hands back to the runner. */
export interface BenchOutput {
  name: string;
  rows: Row[];
  /** How it was measured (concurrency, pinning, what each side does), printed under the table. */
  notes: string[];
  /** Why it did not run (or why one baseline did not), printed instead of failing. */
  skipped: string[];
  /** Correctness problems (non-2xx answers, quota overshoot): these fail the run. */
  failures: string[];
  /** Every run's raw figures, for the JSON file. */
  raw: Record<string, unknown>;
}

export function output(name: string): BenchOutput {
  return { name, rows: [], notes: [], skipped: [], failures: [], raw: {} };
}

/** A target is judged only on a real run: smoke numbers are too short to mean anything. */
export function judge(ok: boolean): boolean | undefined {
  return SMOKE ? undefined : ok;
}

/** Progress on stderr, so the runner can show it live while stdout stays for the table. */
export function progress(name: string, message: string): void {
  process.stderr.write(`  [${name}] ${message}\n`);
}

export function fmt(value: number | undefined, unit = ""): string {
  if (value === undefined || !Number.isFinite(value)) return "—";
  const abs = Math.abs(value);
  const digits = abs >= 1000 ? 0 : abs >= 100 ? 1 : abs >= 10 ? 1 : abs >= 1 ? 2 : 3;
  const text = value.toLocaleString("en-US", { maximumFractionDigits: digits, minimumFractionDigits: 0 });
  return unit === "" ? text : `${text} ${unit}`;
}

function ratioText(row: Row): string {
  if (row.ratio === undefined || !Number.isFinite(row.ratio)) return "—";
  const r = row.ratio;
  if (row.ratioKind === "speed-up") return r >= 1 ? `${fmt(r)}× faster` : `${fmt(1 / r)}× slower`;
  return r < 1 ? `${(r * 100).toFixed(r < 0.1 ? 1 : 0)} %` : `×${fmt(r)}`;
}

/** The results as an aligned plain-text table (also valid Markdown). */
export function table(rows: readonly Row[], smoke = SMOKE): string {
  const header = ["benchmark", "metric", "Stowage", "baseline", "ratio", "target", "met?"];
  const lines = rows.map((row) => [
    row.benchmark,
    row.metric,
    fmt(row.stowage, row.unit),
    row.baseline === undefined ? "—" : `${fmt(row.baseline, row.unit)}${row.baselineName ? ` (${row.baselineName})` : ""}`,
    ratioText(row),
    row.target ?? "—",
    row.met === undefined ? (row.target === undefined ? "—" : smoke ? "n/a (smoke)" : "—") : row.met ? "yes" : "NO",
  ]);
  const widths = header.map((h, i) => Math.max(h.length, ...lines.map((l) => (l[i] ?? "").length)));
  const render = (cells: string[]) => `| ${cells.map((c, i) => c.padEnd(widths[i] ?? 0)).join(" | ")} |`;
  return [render(header), `|${widths.map((w) => "-".repeat(w + 2)).join("|")}|`, ...lines.map(render)].join("\n");
}

/**
 * The end of every benchmark file: run it, then hand the output to the runner
 * (`BENCH_RESULT_FILE`) or, when started by hand, print its table.
 */
export async function main(url: string, run: () => Promise<BenchOutput>): Promise<void> {
  if (url !== `file://${process.argv[1]}`) return;
  const result = await run();
  const file = process.env.BENCH_RESULT_FILE;
  if (file !== undefined && file !== "") {
    writeFileSync(file, JSON.stringify(result, null, 2));
  } else {
    console.log(table(result.rows));
    for (const line of [...result.notes, ...result.skipped.map((s) => `skipped: ${s}`), ...result.failures.map((f) => `FAILED: ${f}`)]) {
      console.log(`  ${line}`);
    }
  }
  if (result.failures.length > 0) process.exitCode = 1;
  // Clients (keep-alive agents, SDK clients, Redis) may hold sockets open; the work is done.
  setTimeout(() => process.exit(), 200).unref();
}
