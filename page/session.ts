/** Where the credentials are kept: this tab's sessionStorage, gone when the tab closes. */
const KEY = "stowage.token";
const LINK_KEY = "stowage.link";

/** The parts of the browser the session touches (passed in, so nothing here reads globals). */
export interface SessionEnv {
  location: Location;
  history: History;
  storage: Storage;
}

/**
 * What this tab calls the API with: a user's JWT (`Bearer`, the whole page), or an upload link's
 * token (`UploadLink`, the picker alone: whoever holds the link uploads for its creator).
 */
export type Credential = { kind: "user"; token: string } | { kind: "link"; token: string };

/**
 * The credential this visit starts with. One handed over in the address, `#token=…` (the link
 * `npm start` prints) or `#link=…` (an upload link's URL), is taken out of it at once, so it is
 * not bookmarked, copied along with the address, or left on screen, and kept for this tab. The
 * address wins over what the tab kept, and a link over a token (its address is what the person
 * opened). A tab holds one kind only: taking one from the address forgets the other, so a
 * reload comes back in the same mode, a link's holder never lands in a session signed in
 * earlier in the tab, and a user who opens `#token=…` leaves link mode.
 */
export function startingCredential(env: SessionEnv): Credential | undefined {
  const link = takeFromAddress(env, "link");
  const token = takeFromAddress(env, "token");
  if (link !== undefined) {
    env.storage.setItem(LINK_KEY, link);
    forgetToken(env.storage);
    return { kind: "link", token: link };
  }
  if (token !== undefined) {
    saveToken(env.storage, token);
    env.storage.removeItem(LINK_KEY);
    return { kind: "user", token };
  }
  const kept = env.storage.getItem(LINK_KEY) ?? undefined;
  if (kept !== undefined) return { kind: "link", token: kept };
  const saved = savedToken(env.storage);
  return saved === undefined ? undefined : { kind: "user", token: saved };
}

/**
 * Takes the fragment parameter `name` out of the address: replaces the history entry (not a
 * new one: Back does not bring it back) with the address without it. A fragment, never a query
 * string: browsers neither send it to the server nor put it in a Referer. Other fragment
 * parameters stay. Present but empty: removed, and none taken.
 */
function takeFromAddress(env: SessionEnv, name: string): string | undefined {
  const params = new URLSearchParams(env.location.hash.slice(1));
  const value = params.get(name)?.trim();
  if (value === undefined) return undefined;
  params.delete(name);
  const rest = params.toString();
  env.history.replaceState(env.history.state, "", `${env.location.pathname}${env.location.search}${rest === "" ? "" : `#${rest}`}`);
  return value === "" ? undefined : value;
}

export function savedToken(storage: Storage): string | undefined {
  return storage.getItem(KEY) ?? undefined;
}

export function saveToken(storage: Storage, token: string): void {
  storage.setItem(KEY, token);
}

export function forgetToken(storage: Storage): void {
  storage.removeItem(KEY);
}

/**
 * The token's subject, to say who is signed in. Read, not verified: the server verifies every
 * request, and the page shows this only once the API has accepted the token.
 */
export function subjectOf(token: string): string | undefined {
  const payload = token.split(".")[1];
  if (payload === undefined) return undefined;
  try {
    const json = atob(payload.replaceAll("-", "+").replaceAll("_", "/"));
    const bytes = Uint8Array.from(json, (c) => c.charCodeAt(0));
    const claims: unknown = JSON.parse(new TextDecoder().decode(bytes));
    const sub = (claims as { sub?: unknown }).sub;
    return typeof sub === "string" ? sub : undefined;
  } catch {
    return undefined;
  }
}
