import type { LinkPrincipal, Principal } from "../auth/principal.js";
import { StowageError } from "../errors.js";
import { normalizeMimeType } from "../policies/mime.js";
import type { Policy } from "../policies/policy.js";

/**
 * What an upload link allows, as a policy: the owner type's, narrowed by the link's types and
 * size. Narrowing only: a type the policy no longer allows stays refused, whatever the link says.
 */
export function policyFor(policy: Policy, principal: Principal): Policy {
  if (principal.kind !== "link") return policy;
  const narrowed = principal.allowedTypes;
  const allowedTypes = narrowed === undefined ? policy.allowedTypes : policy.allowedTypes.filter((t) => narrowed.includes(t));
  return { ...policy, allowedTypes, maxBytes: Math.min(policy.maxBytes, principal.maxBytes ?? Number.MAX_SAFE_INTEGER) };
}

/**
 * A presign through a link: only for the link's owner type, with the link's ownerId (or none,
 * when the link names none): the holder never picks which record its upload belongs to.
 * Answers the ownerId the upload gets.
 */
export function ownerIdThroughLink(
  principal: LinkPrincipal,
  input: { ownerType: string; ownerId?: string | undefined },
): string | undefined {
  if (input.ownerType !== principal.ownerType) {
    throw new StowageError("FORBIDDEN", `This upload link is for owner type '${principal.ownerType}' only.`);
  }
  if (input.ownerId !== undefined && input.ownerId !== principal.ownerId) {
    throw new StowageError("FORBIDDEN", principal.ownerId === undefined ? "This upload link sets no ownerId." : "This upload link is for another ownerId.");
  }
  return principal.ownerId;
}

/**
 * A link's limits, checked when it is made: they may only narrow the owner type's policy.
 * Answers the normalized types (undefined: the policy's).
 */
export function narrowedLimits(
  policy: Policy,
  input: { maxBytesPerUpload?: number | undefined; allowedTypes?: readonly string[] | undefined },
): {
  maxBytes: number | undefined;
  allowedTypes: string[] | undefined;
} {
  if (input.maxBytesPerUpload !== undefined && input.maxBytesPerUpload > policy.maxBytes) {
    throw new StowageError("INVALID_REQUEST", `maxBytesPerUpload may be at most ${policy.ownerType}'s limit, ${policy.maxBytes} bytes.`, {
      details: { field: "maxBytesPerUpload", maxBytes: policy.maxBytes },
    });
  }
  const types = input.allowedTypes === undefined ? undefined : [...new Set(input.allowedTypes.map(normalizeMimeType))];
  const outside = types?.filter((t) => !policy.allowedTypes.includes(t)) ?? [];
  if (outside.length > 0) {
    throw new StowageError("INVALID_REQUEST", `allowedTypes may only name types ${policy.ownerType} allows; not: ${outside.join(", ")}.`, {
      details: { field: "allowedTypes", refused: outside, allowedTypes: policy.allowedTypes },
    });
  }
  return { maxBytes: input.maxBytesPerUpload, allowedTypes: types };
}
