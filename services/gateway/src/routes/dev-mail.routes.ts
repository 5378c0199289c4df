import type { FastifyInstance } from "fastify";
import { listDevMail, type DevMail } from "@mimascota/shared/mail/dev-mailbox";

/** `GET /_dev/mail`: the dev mailbox as a page (links clickable) or, with `?format=json`, as JSON. */
export function registerDevMailRoutes(app: FastifyInstance, dataDir: string): void {
  app.get("/_dev/mail", async (request, reply) => {
    const mails = await listDevMail(dataDir, 50);
    const query = request.query as { format?: string };
    reply.header("cache-control", "no-store");
    if (query.format === "json") return { mails };
    return reply
      .type("text/html; charset=utf-8")
      .header("content-security-policy", "default-src 'none'; style-src 'unsafe-inline'")
      .send(page(mails));
  });
}

function page(mails: DevMail[]): string {
  const items = mails
    .map(
      (
        m,
      ) => `<article><h2>${escape(m.subject)}</h2><p class="meta">To ${escape(m.to)} · ${escape(m.createdAt)}</p>
<pre>${linkify(escape(m.text))}</pre></article>`,
    )
    .join("\n");
  return `<!doctype html><html lang="en"><head><meta charset="utf-8"><title>Dev mailbox</title>
<style>body{font:15px system-ui;max-width:50rem;margin:2rem auto;padding:0 1rem}article{border-top:1px solid #ccc}
.meta{color:#666}pre{white-space:pre-wrap}</style></head>
<body><h1>Dev mailbox</h1><p>${mails.length} most recent mails (newest first). <a href="?format=json">JSON</a></p>
${items || "<p>No mail yet.</p>"}</body></html>`;
}

function escape(text: string): string {
  return text.replace(/[&<>"']/g, (c) => `&#${c.charCodeAt(0)};`);
}

/** Runs on escaped text, so a URL cannot break out of the attribute. */
function linkify(escaped: string): string {
  return escaped.replace(/https?:\/\/[^\s<]+/g, (url) => `<a href="${url}">${url}</a>`);
}
