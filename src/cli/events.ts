import { Command, InvalidArgumentError, Option } from "commander";
import type { Env } from "../config/load.js";
import type { DeliveryState } from "../store/database.js";
import type { DeliveryRow } from "../store/event-store.js";
import type { MetadataStore } from "../store/store.js";
import { configFor } from "./load-config.js";

const STATES: readonly DeliveryState[] = ["pending", "delivered", "dead", "disabled"];

function limitOf(value: string): number {
  const n = Number(value);
  if (!Number.isInteger(n) || n < 1 || n > 10_000) throw new InvalidArgumentError("must be a whole number from 1 to 10000");
  return n;
}

/**
 * `stowage events list|retry`: the outbox's deliveries as an operator sees them. `list` shows
 * them (the dead letters with `--state dead`), `retry` makes dead or disabled ones due again,
 * with the same event ids, so receivers that already had one dedupe it.
 */
export function buildEventsCommand(env: Env): Command {
  const events = new Command("events").description("Webhook and worker deliveries of upload events: list them, retry dead ones.");

  events
    .command("list")
    .description("Deliveries, newest event first.")
    .addOption(new Option("--state <state>", "only deliveries in this state").choices(STATES))
    .option("--target <target>", "only this subscriber (webhook:<id>, scanner, derivatives, listeners)")
    .option("--limit <n>", "at most this many", limitOf, 50)
    .option("--json", "one JSON object per line")
    .action(async (options: { state?: DeliveryState; target?: string; limit: number; json?: boolean }) => {
      const store = await openMigrated(env);
      try {
        const rows = await store.events.listDeliveries({ state: options.state, target: options.target, limit: options.limit });
        for (const row of rows) process.stdout.write(`${options.json === true ? JSON.stringify(row) : line(row)}\n`);
        if (rows.length === 0 && options.json !== true) process.stderr.write("no deliveries\n");
      } finally {
        await store.close();
      }
    });

  events
    .command("retry")
    .description("Make dead (or disabled) deliveries due again now: those of the given events, or all of a target's.")
    .option("--event <id>", "an event id; repeat for more", (value: string, all: string[]) => [...all, value], [])
    .option("--target <target>", "every dead delivery of this subscriber, and re-enable it if a 410 disabled it")
    .action(async (options: { event: string[]; target?: string }) => {
      if (options.event.length === 0 && options.target === undefined) {
        throw new InvalidArgumentError("give --event <id> (repeatable) or --target <target>");
      }
      const store = await openMigrated(env);
      try {
        const count = await store.events.retry({
          eventIds: options.event.length === 0 ? undefined : options.event,
          target: options.target,
          now: new Date(),
        });
        process.stdout.write(`${count} deliver${count === 1 ? "y" : "ies"} due again\n`);
      } finally {
        await store.close();
      }
    });
  return events;
}

/** The configured store, its schema brought up to date; the store's modules loaded only now. */
async function openMigrated(env: Env): Promise<MetadataStore> {
  const { openStore } = await import("../store/open.js");
  const store = openStore((await configFor(env)).database);
  try {
    await store.migrate();
  } catch (error) {
    await store.close();
    throw error;
  }
  return store;
}

function line(row: DeliveryRow): string {
  const last = row.lastStatus === undefined ? (row.lastError ?? "") : `HTTP ${row.lastStatus}${row.lastError === undefined ? "" : ` ${row.lastError}`}`;
  const next = row.state === "pending" ? `  next ${row.nextAttemptAt.toISOString()}` : "";
  return `${row.eventId}  ${row.type}  upload ${row.uploadId}  ${row.target}  ${row.state}  attempts ${row.attempts}${next}${last ? `  last: ${last}` : ""}`;
}
