/**
 * Every link in a mail is built from the configured PUBLIC_APP_URL, never from the request's Host header (a
 * forged Host would otherwise send reset tokens to an attacker's site). A base with a path is kept.
 */
export class MailLinks {
  readonly #base: URL;

  constructor(publicAppUrl: string) {
    this.#base = new URL(publicAppUrl.endsWith("/") ? publicAppUrl : `${publicAppUrl}/`);
  }

  verifyEmail(token: string): string {
    return this.#link("verify-email", { token });
  }

  resetPassword(token: string): string {
    return this.#link("reset-password", { token });
  }

  /** Where the owner asks for a reset link (the front end's forgot-password page). */
  forgotPassword(): string {
    return this.#link("forgot-password");
  }

  login(): string {
    return this.#link("login");
  }

  #link(path: string, query: Record<string, string> = {}): string {
    const url = new URL(path, this.#base);
    for (const [name, value] of Object.entries(query)) url.searchParams.set(name, value);
    return url.toString();
  }
}
