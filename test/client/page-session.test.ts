import assert from "node:assert/strict";
import { describe, it } from "node:test";
import { type SessionEnv, startingCredential } from "../../page/session.js";

/** A tab: its address (what `location` reads and `history.replaceState` rewrites) and its sessionStorage. */
function tab(address: string, kept: Record<string, string> = {}) {
  let url = new URL(address);
  const entries: string[] = [];
  const items = new Map(Object.entries(kept));
  const env = {
    // Getters: the address as it is now, after any rewrite.
    location: Object.defineProperties({}, {
      hash: { get: () => url.hash },
      pathname: { get: () => url.pathname },
      search: { get: () => url.search },
    }),
    history: {
      state: null,
      replaceState: (_state: unknown, _unused: string, next: string) => {
        url = new URL(next, url);
        entries.push(url.href);
      },
    },
    storage: {
      getItem: (key: string) => items.get(key) ?? null,
      setItem: (key: string, value: string) => void items.set(key, value),
      removeItem: (key: string) => void items.delete(key),
    },
  } as unknown as SessionEnv;
  return { env, href: () => url.href, entries, kept: () => Object.fromEntries(items) };
}

describe("the page's credential (page/session.ts)", () => {
  it("takes #link=… out of the address at once, replacing the history entry, and keeps it for the tab under its own key", () => {
    const t = tab("https://up.example/?lang=en#link=lnk_abc&x=1");
    assert.deepEqual(startingCredential(t.env), { kind: "link", token: "lnk_abc" });
    assert.equal(t.href(), "https://up.example/?lang=en#x=1", "other fragment parameters and the query stay");
    assert.deepEqual(t.entries, ["https://up.example/?lang=en#x=1"], "one replaceState: no entry holds the token");
    assert.deepEqual(t.kept(), { "stowage.link": "lnk_abc" });
  });

  it("comes back in link mode after a reload, from what the tab kept", () => {
    const t = tab("https://up.example/", { "stowage.link": "lnk_abc" });
    assert.deepEqual(startingCredential(t.env), { kind: "link", token: "lnk_abc" });
    assert.deepEqual(t.entries, [], "nothing in the address: nothing rewritten");
  });

  it("holds one kind per tab: a link opened forgets a signed-in token, a token opened leaves link mode", () => {
    const signedIn = tab("https://up.example/#link=lnk_new", { "stowage.token": "jwt.old" });
    assert.deepEqual(startingCredential(signedIn.env), { kind: "link", token: "lnk_new" });
    assert.deepEqual(signedIn.kept(), { "stowage.link": "lnk_new" });

    const linked = tab("https://up.example/#token=jwt.new", { "stowage.link": "lnk_old" });
    assert.deepEqual(startingCredential(linked.env), { kind: "user", token: "jwt.new" });
    assert.deepEqual(linked.kept(), { "stowage.token": "jwt.new" });
    assert.equal(linked.href(), "https://up.example/");
  });

  it("prefers a link over a token when the address has both, and takes both out of it", () => {
    const t = tab("https://up.example/#token=jwt.a&link=lnk_b");
    assert.deepEqual(startingCredential(t.env), { kind: "link", token: "lnk_b" });
    assert.equal(t.href(), "https://up.example/");
    assert.deepEqual(t.kept(), { "stowage.link": "lnk_b" });
  });

  it("drops an empty #link= from the address and falls back to what the tab kept, or to nothing", () => {
    const t = tab("https://up.example/#link=", { "stowage.token": "jwt.kept" });
    assert.deepEqual(startingCredential(t.env), { kind: "user", token: "jwt.kept" });
    assert.equal(t.href(), "https://up.example/");
    assert.equal(startingCredential(tab("https://up.example/").env), undefined);
  });
});
