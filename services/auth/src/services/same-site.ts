import { problems } from "../errors.ts";

/** What a browser says about where a request comes from. */
export interface RequestSite {
  origin?: string | undefined;
  /** The `Sec-Fetch-Site` header. */
  fetchSite?: string | undefined;
}

/**
 * Refuses requests a browser marks as cross-site, for the cookie endpoints (refresh, logout). SameSite=Strict
 * already keeps the cookie off cross-site requests in current browsers; this is the second line for older
 * ones and for same-site-but-cross-origin pages. Requests without either header (native apps, curl) pass:
 * they are not a browser being steered by another site.
 */
export function assertSameSite(site: RequestSite, allowedOrigins: readonly string[]): void {
  if (site.fetchSite === "cross-site") {
    throw problems.error("CROSS_SITE_REQUEST");
  }
  if (site.origin !== undefined && !allowedOrigins.includes(site.origin)) {
    throw problems.error("CROSS_SITE_REQUEST", { variant: "origin" });
  }
}
