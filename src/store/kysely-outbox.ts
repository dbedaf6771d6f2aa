import type { Kysely, Selectable } from "kysely";
import type { OutboxEventType } from "../uploads/events.js";
import type { UploadRecord } from "../uploads/record.js";
import { newUploadId } from "../uploads/upload-id.js";
import { toView } from "../uploads/views.js";
import type { Database, UploadsTable } from "./database.js";
import { toRecord } from "./kysely-shared.js";

/** An event to write beside a state change: its type, the upload as changed, and what it adds. */
export interface NewEvent {
  type: OutboxEventType;
  upload: UploadRecord | Selectable<UploadsTable>;
  extra?: Record<string, unknown>;
}

/**
 * Writes events in the caller's transaction (the outbox): they commit with the change they
 * report, or not at all. Ids are UUIDv7, so id order is write order for the fan-out.
 */
export async function appendEvents(trx: Kysely<Database>, events: readonly NewEvent[], now: Date): Promise<void> {
  if (events.length === 0) return;
  const rows = events.map((event) => {
    const upload = "user_id" in event.upload ? toRecord(event.upload) : event.upload;
    return {
      id: newUploadId(),
      type: event.type,
      upload_id: upload.id,
      owner_type: upload.ownerType,
      payload: JSON.stringify({ ...toView(upload), ...event.extra }),
      created_at: now.getTime(),
    };
  });
  await trx.insertInto("events").values(rows).execute();
}
