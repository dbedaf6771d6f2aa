/**
 * Where clients upload: every presigned URL names a staging key, never the key an upload is
 * served from. Confirm verifies the staging object and copies it to the upload's own key, so
 * nothing a client can still write to is ever served (Shrine's cache → store "promote").
 * Staging keys live in a private bucket under this prefix; key templates may not use it.
 */
export const STAGING_PREFIX = "staging/";

/** The staging key of an upload: made from its server-made id alone, so no input shapes it. */
export function stagingKeyFor(uploadId: string): string {
  return `${STAGING_PREFIX}${uploadId}`;
}
