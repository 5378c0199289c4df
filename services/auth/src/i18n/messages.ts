import { localeFromAcceptLanguage, type Locale } from "@mimascota/shared/i18n/locale";
import type { FastifyRequest } from "fastify";

/** The `message` of every successful answer, per language; the front end shows it to its users as it is. */
const messages = {
  es: {
    // One text per endpoint whatever the email: the body must not tell known and unknown addresses apart.
    registered: "Si esta dirección se puede registrar, te enviamos un correo con el siguiente paso.",
    verified: "Dirección de correo verificada. Ya puedes iniciar sesión.",
    resent:
      "Si esta dirección pertenece a una cuenta sin verificar, te enviamos un nuevo correo de verificación.",
    forgot:
      "Si esta dirección pertenece a una cuenta, te enviamos un correo con un enlace para restablecer la contraseña.",
    reset: "Contraseña restablecida. Se cerraron todas las sesiones; inicia sesión con la contraseña nueva.",
    changed: "Contraseña cambiada. Se cerraron tus otras sesiones.",
    twoFactorRequired:
      "Se requiere el código de verificación en dos pasos para completar el inicio de sesión.",
    twoFactorSetup:
      "Escanea el código QR con tu app de autenticación y confirma con un código. Guarda los códigos de respaldo: solo valdrán cuando confirmes.",
    twoFactorEnabled:
      "Verificación en dos pasos activada. Guarda tus códigos de respaldo en un lugar seguro.",
    twoFactorDisabled: "Verificación en dos pasos desactivada.",
    backupCodesRegenerated: "Nuevos códigos de respaldo generados; los anteriores ya no sirven.",
  },
  en: {
    registered: "If this address can be registered, an email with the next step is on its way.",
    verified: "Email address verified. You can now sign in.",
    resent: "If this address belongs to an unverified account, a new verification email is on its way.",
    forgot: "If this address belongs to an account, an email with a reset link is on its way.",
    reset: "Password reset. Every session was signed out; sign in with the new password.",
    changed: "Password changed. Your other sessions were signed out.",
    twoFactorRequired: "A two-factor code is required to complete the sign-in.",
    twoFactorSetup:
      "Scan the QR code with your authenticator app and confirm with a code. Keep the backup codes: they work once you confirm.",
    twoFactorEnabled: "Two-factor authentication is on. Keep your backup codes somewhere safe.",
    twoFactorDisabled: "Two-factor authentication is off.",
    backupCodesRegenerated: "New backup codes generated; the earlier ones no longer work.",
  },
} as const satisfies Record<Locale, Record<string, string>>;

export type MessageKey = keyof (typeof messages)["es"];

export function message(locale: Locale, key: MessageKey): string {
  return messages[locale][key];
}

/** The message in the caller's language (Accept-Language; Spanish by default). */
export function messageFor(request: FastifyRequest, key: MessageKey): string {
  return message(localeFromAcceptLanguage(request.headers["accept-language"]), key);
}

export const MESSAGE_KEYS = Object.keys(messages.es) as MessageKey[];
