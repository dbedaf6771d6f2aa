/**
 * The states an upload moves through; the allowed moves and the named checks every query uses
 * are in `lifecycle.ts`. Pure data: the API contract (`src/api/`) names them alike.
 */
export const UPLOAD_STATUSES = ["pending", "scanning", "confirmed", "rejected", "infected", "deleted", "expired"] as const;
export type UploadStatus = (typeof UPLOAD_STATUSES)[number];
