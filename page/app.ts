import { ApiError, createApi, type StowageApi } from "./api.js";
import { h } from "./dom.js";
import { forgetToken, savedToken, saveToken, type SessionEnv, subjectOf, takeTokenFromAddress } from "./session.js";
import { accountView } from "./views/account.js";
import { policiesView } from "./views/policies.js";
import { problemView } from "./views/problem.js";
import { quotaView } from "./views/quota.js";
import { signInView } from "./views/sign-in.js";

/** Where the page draws, and the browser parts it uses (passed in: nothing below reads globals). */
export interface PageEnv extends SessionEnv {
  /** The main region: the sign-in form, or the signed-in sections. */
  main: HTMLElement;
  /** The header's corner: who is signed in, and signing out. */
  account: HTMLElement;
  fetch: typeof fetch;
}

/**
 * The page's two states. Signed out: the sign-in form. Signed in: the caller's quota and the
 * owner types open to them, each a view of its own (`views/`). A token from the address
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
  const api: StowageApi = createApi({ token, fetch: env.fetch });
  try {
    const [policies, quota] = await Promise.all([api.policies(), api.quota()]);
    env.account.replaceChildren(
      accountView(subjectOf(token), () => {
        forgetToken(env.storage);
        showSignIn(env);
      }),
    );
    // The upload UI (file picker and drop zone, per-file progress, the list of uploads) goes
    // here as views of its own, given `api` and `policies`; a finished upload redraws the quota.
    show(env, h("h1", { id: "page-title", tabindex: -1 }, "Your uploads"), quotaView(quota), policiesView(policies));
  } catch (error) {
    if (error instanceof ApiError && error.status === 401) {
      forgetToken(env.storage);
      showSignIn(env, `This token was refused: ${error.message} Paste another one, or open the link npm start prints.`);
      return;
    }
    const message = error instanceof ApiError ? error.message : "Stowage could not be reached. Is the server running?";
    show(env, problemView(message, () => void showSignedIn(env, token)));
  }
}
