import type { Migration, MigrationProvider } from "kysely";
import * as initial from "./0001-initial.js";
import * as multipart from "./0002-multipart.js";
import * as orgAttachRetention from "./0003-org-attach-retention.js";
import * as sweepCursors from "./0004-sweep-cursors.js";
import * as stagingReservations from "./0005-staging-reservations.js";
import * as userKey from "./0006-user-key.js";
import * as eventsDerivatives from "./0007-events-derivatives.js";
import * as uploadLinks from "./0008-upload-links.js";
import * as history from "./0009-history.js";
import * as purgeCursors from "./0010-purge-cursors.js";

/** Migrations are compiled in, not read from a folder at run time, so bundles and dist work alike. */
export const migrationProvider: MigrationProvider = {
  async getMigrations(): Promise<Record<string, Migration>> {
    return {
      "0001-initial": initial,
      "0002-multipart": multipart,
      "0003-org-attach-retention": orgAttachRetention,
      "0004-sweep-cursors": sweepCursors,
      "0005-staging-reservations": stagingReservations,
      "0006-user-key": userKey,
      "0007-events-derivatives": eventsDerivatives,
      "0008-upload-links": uploadLinks,
      "0009-history": history,
      "0010-purge-cursors": purgeCursors,
    };
  },
};
