/**
 * The states an upload moves through; the allowed moves are in `uploads/lifecycle.ts`. Below
 * both the store and the API contract, which name them alike.
 */
export const UPLOAD_STATUSES = ["pending", "confirmed", "rejected", "deleted", "expired"] as const;
export type UploadStatus = (typeof UPLOAD_STATUSES)[number];
