/** The quota subjects an upload is charged to: its user, and its organization if any. */
export function quotaSubjects(userId: string, orgId: string | null | undefined): string[] {
  return orgId == null ? [`user:${userId}`] : [`user:${userId}`, `org:${orgId}`];
}

/** A quota subject such as `user:alice` or `org:acme`. */
export interface QuotaCharge {
  subject: string;
  /** Limit used when the subject has no limit of its own. */
  defaultLimitBytes: number;
  /** At most this many pending uploads holding a reservation (users; organizations have none). */
  maxPending?: number | undefined;
}

export interface QuotaUsage {
  subject: string;
  usedBytes: number;
  /** Declared sizes of pending uploads, held until they are confirmed, refused or expire. */
  reservedBytes: number;
  /** Pending uploads holding a reservation. */
  pendingUploads: number;
  limitBytes: number;
}
