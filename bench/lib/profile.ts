import { existsSync, readFileSync } from "node:fs";
import { ROOT } from "./settings.js";

interface CpuProfile {
  nodes: { id: number; callFrame: { functionName: string; url: string; lineNumber: number } }[];
  samples: number[];
  timeDeltas: number[];
}

/** Where a function lives, shortened: `pkg` for node_modules, `src/…` for ours, `node:…` for Node. */
function place(url: string): string {
  if (url === "") return "";
  const path = url.replace(/^file:\/\//, "");
  const modules = /node_modules\/((?:@[^/]+\/)?[^/]+)\/(.*)$/.exec(path);
  if (modules !== null) return `${modules[1]}/${modules[2]}`;
  return path.startsWith(ROOT) ? path.slice(ROOT.length) : path;
}

function owner(url: string): string {
  const shown = place(url);
  if (shown === "") return "(native / VM)";
  if (shown.startsWith("node:")) return "node: internals";
  const pkg = /^((?:@[^/]+\/)?[^/]+)\//.exec(shown);
  if (url.includes("node_modules")) return pkg?.[1] ?? shown;
  return shown;
}

/**
 * The top self-time functions of a `--cpu-prof` profile, and self time summed by package (or
 * by source file for ours), as text. Idle time (`(idle)`) is left out of the percentages.
 */
export function summarizeProfile(file: string, top = 20): string {
  if (!existsSync(file)) return `  (no profile at ${file}: the process did not exit cleanly)`;
  const profile = JSON.parse(readFileSync(file, "utf8")) as CpuProfile;
  const byId = new Map(profile.nodes.map((n) => [n.id, n.callFrame]));
  const self = new Map<string, number>();
  const byOwner = new Map<string, number>();
  let busy = 0;
  profile.samples.forEach((id, i) => {
    const frame = byId.get(id);
    const dt = profile.timeDeltas[i] ?? 0;
    if (frame === undefined || frame.functionName === "(idle)") return;
    busy += dt;
    const name = `${frame.functionName || "(anonymous)"}  ${place(frame.url)}${frame.url ? `:${frame.lineNumber + 1}` : ""}`;
    self.set(name, (self.get(name) ?? 0) + dt);
    const who = frame.functionName.startsWith("(") && frame.url === "" ? frame.functionName : owner(frame.url);
    byOwner.set(who, (byOwner.get(who) ?? 0) + dt);
  });
  const pct = (us: number) => `${((100 * us) / Math.max(1, busy)).toFixed(1).padStart(5)} %`;
  const ms = (us: number) => `${(us / 1000).toFixed(0).padStart(6)} ms`;
  const lines = [`  busy CPU ${(busy / 1e6).toFixed(2)} s; top self time by function:`];
  for (const [name, us] of [...self].sort((a, b) => b[1] - a[1]).slice(0, top)) lines.push(`    ${pct(us)} ${ms(us)}  ${name}`);
  lines.push("  self time by package / source file:");
  for (const [name, us] of [...byOwner].sort((a, b) => b[1] - a[1]).slice(0, 15)) lines.push(`    ${pct(us)} ${ms(us)}  ${name}`);
  return lines.join("\n");
}

if (import.meta.url === `file://${process.argv[1]}`) {
  for (const file of process.argv.slice(2)) console.log(`${file}\n${summarizeProfile(file, 30)}`);
}
