import { connect, isLinkClosed, isSignedOut, isStowageClientError } from "./api.js";
import { h } from "./dom.js";
import { linkWorkspace } from "./link-workspace.js";
import { forgetToken, saveToken, type SessionEnv, startingCredential, subjectOf } from "./session.js";
import { accountView } from "./views/account.js";
import { linkClosedView } from "./views/link-closed.js";
import { problemView } from "./views/problem.js";
import { signInView } from "./views/sign-in.js";
import { loadListing, workspace } from "./workspace.js";

/** Where the page draws, and the browser parts it uses (passed in: nothing below reads globals). */
export interface PageEnv extends SessionEnv {
  /** The main region: the sign-in form, the signed-in sections, or an upload link's picker. */
  main: HTMLElement;
  /** The header's corner: who is signed in, and signing out. */
  account: HTMLElement;
  fetch: typeof fetch;
}

/**
 * The page's three states. Signed out: the sign-in form. Signed in: the workspace (`workspace.ts`):
 * quota, picker and transfers, the caller's files, the owner types open to them. Link mode, for
 * whoever opened an upload link (`#link=…`): the picker and transfers alone (`link-workspace.ts`).
 * A credential from the address wins over the one this tab kept (`startingCredential`); a
 * refused token is forgotten and the form says why, a refused link says why and stays (a reload
 * says it again).
 */
export function startPage(env: PageEnv): void {
  const credential = startingCredential(env);
  if (credential === undefined) showSignIn(env);
  else if (credential.kind === "link") void showLink(env, credential.token);
  else void showSignedIn(env, credential.token);
}

function show(env: PageEnv, ...sections: HTMLElement[]): void {
  env.main.removeAttribute("aria-busy");
  env.main.replaceChildren(...sections);
  // Screen readers hear the new state's heading; keyboard users continue from there.
  const first = sections[0];
  (first?.matches("h1[tabindex]") ? first : first?.querySelector<HTMLElement>("h1[tabindex]"))?.focus();
}

function showSignIn(env: PageEnv, problem?: string): void {
  env.account.replaceChildren();
  show(
    env,
    signInView({
      problem,
      onToken: (token) => {
        saveToken(env.storage, token);
        void showSignedIn(env, token);
      },
    }),
  );
}

function showLoading(env: PageEnv): void {
  env.main.setAttribute("aria-busy", "true");
  env.main.replaceChildren(h("p", { role: "status" }, "Loading…"));
}

async function showSignedIn(env: PageEnv, token: string): Promise<void> {
  showLoading(env);
  const client = connect({ baseUrl: env.location.origin, token, link: false, fetch: env.fetch });
  const signOut = (problem?: string) => {
    forgetToken(env.storage);
    showSignIn(env, problem);
  };
  try {
    const [policies, quota, listing] = await Promise.all([client.policies(), client.quota(), loadListing(client)]);
    env.account.replaceChildren(accountView(subjectOf(token), () => signOut()));
    show(env, ...workspace({ client, policies, quota, listing, origin: env.location.origin, onSignedOut: signOut }));
  } catch (error) {
    if (isSignedOut(error)) {
      signOut(`This token was refused: ${error.message} Paste another one, or open the link npm start prints.`);
      return;
    }
    const message = isStowageClientError(error) && error.kind === "refused"
      ? error.message
      : "Stowage could not be reached. Is the server running?";
    show(env, problemView(message, () => void showSignedIn(env, token)));
  }
}

/** Link mode: no account, no sign-out; the link's owner type (what `policies()` answers it) and nothing else. */
async function showLink(env: PageEnv, token: string): Promise<void> {
  env.account.replaceChildren();
  showLoading(env);
  const client = connect({ baseUrl: env.location.origin, token, link: true, fetch: env.fetch });
  try {
    const policies = await client.policies();
    show(env, ...linkWorkspace({ client, policies, origin: env.location.origin }));
  } catch (error) {
    if (isLinkClosed(error)) {
      show(env, linkClosedView(error));
      return;
    }
    const message = isStowageClientError(error) && error.kind === "refused"
      ? error.message
      : "The upload service could not be reached. Check your connection, then try again.";
    show(env, problemView(message, () => void showLink(env, token)));
  }
}
