/**
 * An origin as browsers send it in `Origin` (`https://app.example.com`, `http://localhost:5173`):
 * scheme, host and port only. A path, query or credentials would never match any request, so
 * they are refused rather than silently dropped; a trailing slash is tolerated.
 */
export function parseOrigin(raw: string): string {
  const bad = (why: string) =>
    new Error(`'${raw}' is not a usable origin: ${why} (an origin looks like https://app.example.com or http://localhost:5173)`);
  if (!URL.canParse(raw)) throw bad("not a URL");
  const url = new URL(raw);
  if (url.protocol !== "http:" && url.protocol !== "https:") throw bad("it must start with http:// or https://");
  if (url.username !== "" || url.password !== "") throw bad("it must not contain credentials");
  if (url.pathname !== "/" || url.search !== "" || url.hash !== "" || /[?#]/.test(raw)) {
    throw bad("it must not have a path, query or fragment");
  }
  // `url.origin` drops a default port (`:443`), exactly as browsers do in the `Origin` header.
  return url.origin;
}
