export interface MailLinkSettings {
  /** The front end's base URL (verification and sign-in links). */
  publicAppUrl: string;
  /** The gateway's public base URL, where this backend's own account pages are served. */
  publicApiUrl: string;
  /** An app's own reset page, which then takes `?token=` (RESET_PASSWORD_URL); unset: ours. */
  resetPasswordUrl?: string | undefined;
}

/**
 * Every link in a mail is built from configured public URLs, never from the request's Host header (a forged
 * Host would otherwise send reset tokens to an attacker's site). A base with a path is kept. Verification and
 * sign-in links go to the front end; password links go to the pages this backend serves
 * (`/account/reset-password`, `/account/forgot-password`), since the original front end has none, unless
 * RESET_PASSWORD_URL names an app's own page.
 */
export class MailLinks {
  readonly #app: URL;
  readonly #api: URL;
  readonly #resetPage: string | undefined;

  constructor(settings: MailLinkSettings) {
    this.#app = base(settings.publicAppUrl);
    this.#api = base(settings.publicApiUrl);
    this.#resetPage = settings.resetPasswordUrl;
  }

  verifyEmail(token: string): string {
    return link(this.#app, "verify-email", { token });
  }

  resetPassword(token: string): string {
    if (this.#resetPage) return withQuery(new URL(this.#resetPage), { token });
    return link(this.#api, "account/reset-password", { token });
  }

  /** Where the owner asks for a reset link: the app's page beside its own reset page, else ours. */
  forgotPassword(): string {
    return this.#resetPage ? link(this.#app, "forgot-password") : link(this.#api, "account/forgot-password");
  }

  login(): string {
    return link(this.#app, "login");
  }
}

function base(url: string): URL {
  return new URL(url.endsWith("/") ? url : `${url}/`);
}

function link(root: URL, path: string, query: Record<string, string> = {}): string {
  return withQuery(new URL(path, root), query);
}

function withQuery(url: URL, query: Record<string, string>): string {
  for (const [name, value] of Object.entries(query)) url.searchParams.set(name, value);
  return url.toString();
}
