/** S3's multipart limits, which R2, MinIO and Ceph share. */
export const MIN_PART_BYTES = 5 * 1024 * 1024;
export const MAX_PARTS = 10_000;
export const MAX_OBJECT_BYTES = 5 * 1024 ** 4;

export interface PartPlan {
  partSize: number;
  partCount: number;
}

/**
 * Part size for an object: at least 5 MiB, a whole number of MiB, and large enough that the
 * object fits in 10 000 parts. Every part but the last has exactly this size (R2 refuses
 * uneven parts), so a client needs only the size and count to cut the file.
 */
export function planParts(size: number): PartPlan {
  const MiB = 1024 * 1024;
  const partSize = Math.max(MIN_PART_BYTES, Math.ceil(size / MAX_PARTS / MiB) * MiB);
  return { partSize, partCount: Math.max(1, Math.ceil(size / partSize)) };
}

/** Length of part `partNumber` (1-based) under a plan. */
export function partLength(size: number, plan: PartPlan, partNumber: number): number {
  if (partNumber < plan.partCount) return plan.partSize;
  return size - plan.partSize * (plan.partCount - 1);
}
