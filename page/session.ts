/** Where the token is kept: this tab's sessionStorage, gone when the tab closes. */
const KEY = "stowage.token";

/** The parts of the browser the session touches (passed in, so nothing here reads globals). */
export interface SessionEnv {
  location: Location;
  history: History;
  storage: Storage;
}

/**
 * Takes a token handed over in the address, `/#token=…` (the link `npm start` prints): keeps it
 * for this tab and removes it from the address bar and the history entry at once, so it is not
 * bookmarked, copied along with the address, or left on screen. A fragment, never a query
 * string: browsers neither send it to the server nor put it in a Referer. Other fragment
 * parameters stay.
 */
export function takeTokenFromAddress(env: SessionEnv): string | undefined {
  const params = new URLSearchParams(env.location.hash.slice(1));
  const token = params.get("token")?.trim();
  if (token === undefined) return undefined;
  params.delete("token");
  const rest = params.toString();
  env.history.replaceState(env.history.state, "", `${env.location.pathname}${env.location.search}${rest === "" ? "" : `#${rest}`}`);
  if (token === "") return undefined;
  saveToken(env.storage, token);
  return token;
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
