import assert from "node:assert/strict";
import { describe, it } from "node:test";
import { MailLinks } from "../../src/mail/mail-links.ts";
import { escapeHtml, renderMail, type MailTemplate, type MailVars } from "../../src/mail/render-mail.ts";

const at = new Date("2026-03-04T05:06:00Z");
const hostile = `<script>alert("x")</script> & 'O'Brien'`;
const sample: { [T in MailTemplate]: MailVars[T] } = {
  "verify-email": { name: hostile, link: "https://app.example/verify-email?token=abc", validHours: 24 },
  "already-registered": {
    name: hostile,
    loginLink: "https://app.example/login",
    resetLink: "https://app.example/forgot-password",
  },
  "reset-password": { name: hostile, link: "https://app.example/reset-password?token=abc", validMinutes: 60 },
  "password-changed": { name: hostile, at, resetLink: "https://app.example/forgot-password" },
  "account-locked": { name: hostile, until: at, resetLink: "https://app.example/forgot-password" },
  "two-factor-enabled": { name: hostile, at, resetLink: "https://app.example/forgot-password" },
  "two-factor-disabled": { name: hostile, at, resetLink: "https://app.example/forgot-password" },
  "account-deleted": { name: hostile, at },
};
const templates = Object.keys(sample) as MailTemplate[];

describe("mail templates", () => {
  it("render every template in Spanish and English with a subject, a text part and an HTML part", () => {
    for (const template of templates) {
      const es = renderMail(template, "es", sample[template] as never);
      const en = renderMail(template, "en", sample[template] as never);
      for (const mail of [es, en]) {
        assert.ok(mail.subject.length > 0);
        assert.ok(mail.text.length > 0);
        assert.match(mail.html, /^<!doctype html>/);
      }
      assert.notEqual(es.subject, en.subject, template);
      assert.match(es.html, /<html lang="es">/);
      assert.match(en.html, /<html lang="en">/);
    }
  });

  it("escape every interpolated value in the HTML part", () => {
    for (const template of templates) {
      const { html, text } = renderMail(template, "es", sample[template] as never);
      assert.doesNotMatch(html, /<script>/, template);
      assert.match(html, /&lt;script&gt;alert\(&quot;x&quot;\)&lt;\/script&gt; &amp; &#39;O&#39;Brien&#39;/);
      // The text part is plain text: the name appears as given.
      assert.ok(text.includes(hostile));
    }
  });

  it("carry the action link in both parts, attribute-escaped in the HTML", () => {
    const link = "https://app.example/verify-email?token=a&b=%22";
    const { html, text } = renderMail("verify-email", "en", { name: null, link, validHours: 24 });
    assert.ok(text.includes(link));
    assert.ok(html.includes(`href="https://app.example/verify-email?token=a&amp;b=%22"`));
    assert.match(text, /^Hello,/);
  });

  it("state times in UTC in the reader's language", () => {
    const es = renderMail("account-locked", "es", sample["account-locked"]);
    const en = renderMail("account-locked", "en", sample["account-locked"]);
    assert.match(es.text, /4 de marzo de 2026 a las 5:06 UTC/);
    assert.match(en.text, /4 March 2026.*05:06 UTC/);
  });

  it("escapeHtml covers the five HTML-significant characters", () => {
    assert.equal(escapeHtml(`&<>"'`), "&amp;&lt;&gt;&quot;&#39;");
  });
});

describe("mail links", () => {
  const settings = { publicAppUrl: "https://mimascota.app/app", publicApiUrl: "https://api.mimascota.app/" };

  it("are built from the configured public URLs, keeping their path, with the token as a query parameter", () => {
    const links = new MailLinks(settings);
    assert.equal(links.verifyEmail("t_-1"), "https://mimascota.app/app/verify-email?token=t_-1");
    assert.equal(links.login(), "https://mimascota.app/app/login");
    const local = new MailLinks({
      publicAppUrl: "http://localhost:3000/",
      publicApiUrl: "http://localhost:8080",
    });
    assert.equal(local.login(), "http://localhost:3000/login");
  });

  it("send password resets to this backend's own pages, or to RESET_PASSWORD_URL when an app has one", () => {
    const ours = new MailLinks(settings);
    assert.equal(ours.resetPassword("x"), "https://api.mimascota.app/account/reset-password?token=x");
    assert.equal(ours.forgotPassword(), "https://api.mimascota.app/account/forgot-password");
    const app = new MailLinks({ ...settings, resetPasswordUrl: "https://mimascota.app/app/reset?from=mail" });
    assert.equal(app.resetPassword("x"), "https://mimascota.app/app/reset?from=mail&token=x");
    assert.equal(app.forgotPassword(), "https://mimascota.app/app/forgot-password");
  });

  it("encode the token so it cannot add parameters or change the path", () => {
    const link = new MailLinks({ ...settings, publicAppUrl: "https://mimascota.app" }).verifyEmail(
      "a&next=//evil.example/../x",
    );
    const url = new URL(link);
    assert.equal(url.origin, "https://mimascota.app");
    assert.equal(url.pathname, "/verify-email");
    assert.equal(url.searchParams.get("token"), "a&next=//evil.example/../x");
    assert.equal(url.searchParams.get("next"), null);
  });
});
