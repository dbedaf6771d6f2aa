import { StowageError } from "../errors.js";

/** The refusals a link's holder can meet, worded once for every surface. */
export function linkExpired(): StowageError {
  return new StowageError("LINK_EXPIRED", "This upload link has expired; ask its sender for a new one.");
}

export function linkRevoked(): StowageError {
  return new StowageError("LINK_REVOKED", "This upload link was revoked by its sender.");
}

/** A wrong token, a malformed one, or one for no link at all: the same answer, so none tells anything. */
export function linkInvalid(): StowageError {
  return new StowageError("UNAUTHENTICATED", "This upload link is not valid.");
}
