import type { Kysely } from "kysely";

/**
 * The transactional outbox and what hangs off it:
 * - `events`: one row per state change, written in the transaction that makes the change, so a
 *   change and its event commit (or roll back) together. `fanned_out` = 0 until a dispatcher has
 *   given it a delivery row per subscriber.
 * - `deliveries`: one row per event and subscriber (a webhook endpoint, the scanner, the image
 *   renderer, in-process listeners), with its attempts. A dispatcher claims due rows by pushing
 *   `next_attempt_at` past a lease, so a killed one's claims come due again by themselves.
 * - `disabled_targets`: webhook endpoints that answered 410 Gone.
 * - `derivatives`: thumbnails made from confirmed images, stored beside the original.
 */
export async function up(db: Kysely<unknown>): Promise<void> {
  await db.schema
    .createTable("events")
    .addColumn("id", "text", (c) => c.primaryKey())
    .addColumn("type", "text", (c) => c.notNull())
    .addColumn("upload_id", "text", (c) => c.notNull())
    .addColumn("owner_type", "text", (c) => c.notNull())
    .addColumn("payload", "text", (c) => c.notNull())
    .addColumn("created_at", "bigint", (c) => c.notNull())
    .addColumn("fanned_out", "integer", (c) => c.notNull().defaultTo(0))
    .execute();
  await db.schema.createIndex("events_fan_out_idx").on("events").columns(["fanned_out", "id"]).execute();
  await db.schema.createIndex("events_upload_idx").on("events").columns(["upload_id"]).execute();

  await db.schema
    .createTable("deliveries")
    .addColumn("event_id", "text", (c) => c.notNull())
    .addColumn("target", "text", (c) => c.notNull())
    .addColumn("state", "text", (c) => c.notNull())
    .addColumn("attempts", "integer", (c) => c.notNull().defaultTo(0))
    .addColumn("next_attempt_at", "bigint", (c) => c.notNull())
    .addColumn("last_status", "integer")
    .addColumn("last_error", "text")
    .addColumn("updated_at", "bigint", (c) => c.notNull())
    .addPrimaryKeyConstraint("deliveries_pk", ["event_id", "target"])
    .execute();
  await db.schema.createIndex("deliveries_due_idx").on("deliveries").columns(["state", "next_attempt_at"]).execute();

  await db.schema
    .createTable("disabled_targets")
    .addColumn("target", "text", (c) => c.primaryKey())
    .addColumn("reason", "text", (c) => c.notNull())
    .addColumn("disabled_at", "bigint", (c) => c.notNull())
    .execute();

  await db.schema
    .createTable("derivatives")
    .addColumn("upload_id", "text", (c) => c.notNull())
    .addColumn("name", "text", (c) => c.notNull())
    .addColumn("state", "text", (c) => c.notNull())
    .addColumn("bucket", "text", (c) => c.notNull())
    .addColumn("key", "text", (c) => c.notNull())
    .addColumn("content_type", "text")
    .addColumn("width", "integer")
    .addColumn("height", "integer")
    .addColumn("size", "bigint")
    .addColumn("error", "text")
    .addColumn("created_at", "bigint", (c) => c.notNull())
    .addPrimaryKeyConstraint("derivatives_pk", ["upload_id", "name"])
    .execute();
}

export async function down(db: Kysely<unknown>): Promise<void> {
  await db.schema.dropTable("derivatives").execute();
  await db.schema.dropTable("disabled_targets").execute();
  await db.schema.dropTable("deliveries").execute();
  await db.schema.dropTable("events").execute();
}
