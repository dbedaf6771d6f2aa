import { type Kysely, type Selectable, type Transaction } from "kysely";
import type { Database, UploadLinksTable } from "./database.js";
import { dropReservations } from "./kysely-quotas.js";
import { appendEvents } from "./kysely-outbox.js";
import { guardDb, isPostgres, toRecord } from "./kysely-shared.js";
import type { LinkRecord, LinkRefusal, LinkStore } from "./link-store.js";
import type { UploadRecord } from "../uploads/record.js";
import { EVENT_OF_STATUS } from "../uploads/events.js";
import { isAwaitingUpload, isScanning, sourcesOf, statusesWhere } from "../uploads/lifecycle.js";

const AWAITING = statusesWhere(isAwaitingUpload);
const SCANNING = statusesWhere(isScanning);
/** What a revocation moves: uploads still awaiting their bytes. */
const REVOCABLE = sourcesOf("rejected").filter(isAwaitingUpload);

export class KyselyLinkStore implements LinkStore {
  readonly #db: Kysely<Database>;
  readonly #postgres: boolean;

  constructor(db: Kysely<Database>) {
    this.#db = db;
    this.#postgres = isPostgres(db);
  }

  create(link: LinkRecord): Promise<void> {
    return guardDb(async () => {
      await this.#db.insertInto("upload_links").values(linkRow(link)).execute();
    });
  }

  find(id: string): Promise<LinkRecord | undefined> {
    return guardDb(async () => {
      const row = await this.#db.selectFrom("upload_links").selectAll().where("id", "=", id).executeTakeFirst();
      return row === undefined ? undefined : toLink(row);
    });
  }

  list(query: { userId: string; before?: string | undefined; limit: number }): Promise<LinkRecord[]> {
    return guardDb(async () => {
      let q = this.#db.selectFrom("upload_links").selectAll().where("user_id", "=", query.userId);
      if (query.before !== undefined) q = q.where("id", "<", query.before);
      const rows = await q.orderBy("id", "desc").limit(query.limit).execute();
      return rows.map(toLink);
    });
  }

  usesOf(ids: readonly string[], now: Date): Promise<Map<string, number>> {
    if (ids.length === 0) return Promise.resolve(new Map());
    return guardDb(() => countUses(this.#db, ids, now));
  }

  uploadsOf(linkId: string, limit: number): Promise<UploadRecord[]> {
    return guardDb(async () => {
      const rows = await this.#db.selectFrom("uploads").selectAll().where("link_id", "=", linkId).orderBy("id", "desc").limit(limit).execute();
      return rows.map(toRecord);
    });
  }

  revoke(input: { id: string; userId: string; now: Date }): Promise<{ link: LinkRecord; rejected: UploadRecord[] } | undefined> {
    return guardDb(() =>
      this.#db.transaction().execute(async (trx) => {
        // The link row first (locked by the UPDATE): a presign through it waits on this lock,
        // then finds it revoked; its uploads and their quota rows after, as a presign takes them.
        const at = input.now.getTime();
        const revoked = await trx
          .updateTable("upload_links")
          .set({ revoked_at: at })
          .where("id", "=", input.id)
          .where("user_id", "=", input.userId)
          .where("revoked_at", "is", null)
          .returningAll()
          .executeTakeFirst();
        if (revoked === undefined) {
          const row = await trx.selectFrom("upload_links").selectAll().where("id", "=", input.id).where("user_id", "=", input.userId).executeTakeFirst();
          return row === undefined ? undefined : { link: toLink(row), rejected: [] };
        }
        const rejected = await trx
          .updateTable("uploads")
          .set({
            status: "rejected",
            reject_code: "LINK_REVOKED",
            reject_reason: "The upload link was revoked before this upload was confirmed.",
            finished_at: at,
          })
          .where("link_id", "=", input.id)
          .where("status", "in", REVOCABLE)
          .returningAll()
          .execute();
        await dropReservations(trx, rejected.map((row) => row.id), input.now);
        const uploads = rejected.map((row) => ({ ...toRecord(row), reserved: false }));
        await appendEvents(trx, uploads.map((upload) => ({ type: EVENT_OF_STATUS.rejected, upload })), input.now);
        return { link: toLink(revoked), rejected: uploads };
      }),
    );
  }

  /**
   * A late confirm through a link (its URL expired, so its use went back): the link row is locked
   * first (the order a presign and a revocation take it in), before the upload's row is moved.
   */
  async lock(trx: Transaction<Database>, linkId: string): Promise<void> {
    let query = trx.selectFrom("upload_links").select("id").where("id", "=", linkId);
    if (this.#postgres) query = query.forUpdate();
    await query.execute();
  }

  /**
   * Admits presigns through links, inside `createUpload`'s transaction, after their rows were
   * inserted: the links' rows are locked (one statement, in id order: no two batches deadlock),
   * then their uses counted (one statement), the new rows among them. Over `maxUses`, the
   * batch's last rows for that link are refused. Answers a refusal per input (undefined:
   * admitted). A concurrent presign waits on the lock and then counts these.
   */
  async admit(
    trx: Transaction<Database>,
    inputs: readonly { linkId: string | undefined }[],
    now: Date,
  ): Promise<(LinkRefusal | undefined)[]> {
    const refusals: (LinkRefusal | undefined)[] = inputs.map(() => undefined);
    const linkIds = [...new Set(inputs.flatMap((input) => (input.linkId === undefined ? [] : [input.linkId])))].sort();
    if (linkIds.length === 0) return refusals;
    let query = trx.selectFrom("upload_links").select(["id", "max_uses", "expires_at", "revoked_at"]).where("id", "in", linkIds).orderBy("id");
    if (this.#postgres) query = query.forUpdate();
    const links = new Map((await query.execute()).map((row) => [row.id, row]));
    const uses = await countUses(trx, linkIds, now);
    for (const linkId of linkIds) {
      const mine = inputs.flatMap((input, i) => (input.linkId === linkId ? [i] : []));
      const link = links.get(linkId);
      // A link gone from under its holder (authenticated a moment ago) counts as revoked.
      const refusal = link === undefined || link.revoked_at !== null ? "revoked" : Number(link.expires_at) <= now.getTime() ? "expired" : undefined;
      const over = link === undefined ? 0 : Math.min(mine.length, (uses.get(linkId) ?? 0) - Number(link.max_uses));
      const refused = refusal !== undefined ? mine : over > 0 ? mine.slice(mine.length - over) : [];
      for (const i of refused) refusals[i] = refusal ?? "used-up";
    }
    return refusals;
  }
}

/** After the move, under that lock: whether the link's uses (the moved upload among them) are still within `maxUses`. */
export async function withinUses(trx: Transaction<Database>, linkId: string, now: Date): Promise<boolean> {
  const link = await trx.selectFrom("upload_links").select("max_uses").where("id", "=", linkId).executeTakeFirst();
  const uses = (await countUses(trx, [linkId], now)).get(linkId) ?? 0;
  return link !== undefined && uses <= Number(link.max_uses);
}

/** Uses per link: its uploads confirmed ever, scanning, or awaiting their bytes with a live URL. */
async function countUses(db: Kysely<Database>, ids: readonly string[], now: Date): Promise<Map<string, number>> {
  const rows = await db
    .selectFrom("uploads")
    .select((eb) => ["link_id", eb.fn.countAll<number | string>().as("uses")])
    .where("link_id", "in", ids)
    .where((eb) =>
      eb.or([
        eb("confirmed_at", "is not", null),
        eb("status", "in", SCANNING),
        eb.and([eb("status", "in", AWAITING), eb("expires_at", ">", now.getTime())]),
      ]),
    )
    .groupBy("link_id")
    .execute();
  return new Map(rows.flatMap((row) => (row.link_id === null ? [] : [[row.link_id, Number(row.uses)] as const])));
}

function linkRow(link: LinkRecord): Selectable<UploadLinksTable> {
  return {
    id: link.id,
    token_hash: link.tokenHash,
    user_id: link.userId,
    org_id: link.orgId ?? null,
    roles: JSON.stringify(link.roles),
    owner_type: link.ownerType,
    owner_id: link.ownerId ?? null,
    max_uses: link.maxUses,
    max_bytes: link.maxBytes ?? null,
    allowed_types: link.allowedTypes === undefined ? null : JSON.stringify(link.allowedTypes),
    note: link.note ?? null,
    created_at: link.createdAt.getTime(),
    expires_at: link.expiresAt.getTime(),
    revoked_at: link.revokedAt?.getTime() ?? null,
  };
}

function toLink(row: Selectable<UploadLinksTable>): LinkRecord {
  return {
    id: row.id,
    tokenHash: row.token_hash,
    userId: row.user_id,
    orgId: row.org_id ?? undefined,
    roles: JSON.parse(row.roles) as string[],
    ownerType: row.owner_type,
    ownerId: row.owner_id ?? undefined,
    maxUses: Number(row.max_uses),
    maxBytes: row.max_bytes === null ? undefined : Number(row.max_bytes),
    allowedTypes: row.allowed_types === null ? undefined : (JSON.parse(row.allowed_types) as string[]),
    note: row.note ?? undefined,
    createdAt: new Date(Number(row.created_at)),
    expiresAt: new Date(Number(row.expires_at)),
    revokedAt: row.revoked_at === null ? undefined : new Date(Number(row.revoked_at)),
  };
}
