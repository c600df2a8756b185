// What both pages do first, once: read config.json, wire the Sign in and Sign out buttons, finish a sign-in the
// provider just redirected back from (or pick up the one this tab already has). The page then calls the API with
// the shared client (api.ts) and the token it got here.
import { pagesConfig, type PagesConfig } from './config.js';
import { OidcSignIn, type SignedIn } from './oidc.js';

export interface PageUi {
  signInButton: HTMLElement;
  signOutButton: HTMLElement;
  /** Shows a message for the person (sign-in refused, provider unreachable, …). */
  showProblem(message: string): void;
  /** Runs before the page reloads signed out (stop the camera, forget the route, …). */
  onSignOut?(): void;
}

export interface PageStart {
  config: PagesConfig;
  /** Undefined when nobody is signed in: the page shows its signed-out view. */
  signedIn?: SignedIn;
}

export async function startPage(page: 'device' | 'console', ui: PageUi): Promise<PageStart> {
  const config = await pagesConfig();
  const signIn = new OidcSignIn(config[page].oidc, page);
  ui.signInButton.addEventListener('click', () => { void signIn.signIn().catch((e: Error) => ui.showProblem(e.message)); });
  ui.signOutButton.addEventListener('click', () => { signIn.signOut(); ui.onSignOut?.(); location.reload(); });
  try {
    return { config, signedIn: (await signIn.completeRedirect()) ?? signIn.current() };
  } catch (error) {
    ui.showProblem((error as Error).message);
    return { config };
  }
}
