import { connect, isSignedOut, isStowageClientError } from "./api.js";
import { h } from "./dom.js";
import { forgetToken, savedToken, saveToken, type SessionEnv, subjectOf, takeTokenFromAddress } from "./session.js";
import { accountView } from "./views/account.js";
import { problemView } from "./views/problem.js";
import { signInView } from "./views/sign-in.js";
import { loadListing, workspace } from "./workspace.js";

/** Where the page draws, and the browser parts it uses (passed in: nothing below reads globals). */
export interface PageEnv extends SessionEnv {
  /** The main region: the sign-in form, or the signed-in sections. */
  main: HTMLElement;
  /** The header's corner: who is signed in, and signing out. */
  account: HTMLElement;
  fetch: typeof fetch;
}

/**
 * The page's two states. Signed out: the sign-in form. Signed in: the workspace (`workspace.ts`):
 * quota, picker and transfers, the caller's files, the owner types open to them. A token from the address
 * (`#token=…`) wins over the one this tab kept; a refused one is forgotten and the form says why.
 */
export function startPage(env: PageEnv): void {
  const token = takeTokenFromAddress(env) ?? savedToken(env.storage);
  if (token === undefined) showSignIn(env);
  else void showSignedIn(env, token);
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

async function showSignedIn(env: PageEnv, token: string): Promise<void> {
  env.main.setAttribute("aria-busy", "true");
  env.main.replaceChildren(h("p", { role: "status" }, "Loading…"));
  const client = connect({ baseUrl: env.location.origin, token, fetch: env.fetch });
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
