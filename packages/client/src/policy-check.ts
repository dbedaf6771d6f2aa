import type { PolicyView } from "./contract.js";
import { StowageClientError } from "./errors.js";

/** `image/png; charset=x` → `image/png`, as the server compares it. */
export function baseType(contentType: string): string {
  return contentType.split(";")[0]?.trim().toLowerCase() ?? "";
}

/**
 * Refuses, before any byte moves, what the server would refuse at presign anyway: the same codes
 * and details, so a caller handles one set of errors whichever side said no.
 */
export function checkAgainstPolicy(policy: PolicyView | undefined, size: number, contentType: string, ownerId: string | undefined): void {
  if (policy === undefined) return;
  const type = baseType(contentType);
  if (!policy.allowedTypes.includes(type)) {
    throw new StowageClientError("refused", "CONTENT_TYPE_NOT_ALLOWED", `${type} is not allowed for ${policy.ownerType}.`, {
      details: { contentType: type, allowedTypes: policy.allowedTypes },
    });
  }
  if (size > policy.maxBytes) {
    throw new StowageClientError("refused", "FILE_TOO_LARGE", `The file is larger than ${policy.maxBytes} bytes.`, {
      details: { size, maxBytes: policy.maxBytes },
    });
  }
  if (policy.ownerIdRequired && ownerId === undefined) {
    throw new StowageClientError("refused", "OWNER_ID_REQUIRED", `Owner type '${policy.ownerType}' needs an ownerId.`);
  }
}
