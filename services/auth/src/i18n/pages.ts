import type { Locale } from "@mimascota/shared/i18n/locale";

/** The words of the account pages this backend serves (reset and forgot password), per language. */
export const pageCopy = {
  es: {
    lang: "es",
    other: { locale: "en", label: "English" },
    product: "Mi Mascota",
    resetTitle: "Elige una contraseña nueva",
    resetIntro:
      "Usa al menos 12 caracteres. Una frase de varias palabras es fácil de recordar y difícil de adivinar.",
    newPassword: "Contraseña nueva",
    confirmPassword: "Repite la contraseña",
    resetSubmit: "Cambiar la contraseña",
    mismatch: "Las contraseñas no coinciden.",
    doneTitle: "Contraseña cambiada",
    doneText:
      "Tu contraseña se cambió y se cerraron todas tus sesiones. Ya puedes iniciar sesión con la nueva.",
    toApp: "Ir a Mi Mascota",
    usedTitle: "Este enlace ya no sirve",
    usedText:
      "El enlace es inválido, ya se usó o ha expirado. Pide uno nuevo para restablecer tu contraseña.",
    askAgain: "Pedir un enlace nuevo",
    forgotTitle: "¿Olvidaste tu contraseña?",
    forgotIntro: "Escribe el correo de tu cuenta y te enviaremos un enlace para elegir una contraseña nueva.",
    email: "Correo electrónico",
    forgotSubmit: "Enviar el enlace",
    sentTitle: "Revisa tu correo",
    invalidEmail: "Escribe una dirección de correo válida.",
  },
  en: {
    lang: "en",
    other: { locale: "es", label: "Español" },
    product: "Mi Mascota",
    resetTitle: "Choose a new password",
    resetIntro:
      "Use at least 12 characters. A phrase of several words is easy to remember and hard to guess.",
    newPassword: "New password",
    confirmPassword: "Repeat the password",
    resetSubmit: "Change the password",
    mismatch: "The passwords do not match.",
    doneTitle: "Password changed",
    doneText:
      "Your password was changed and every session was signed out. You can now sign in with the new one.",
    toApp: "Go to Mi Mascota",
    usedTitle: "This link no longer works",
    usedText: "The link is invalid, already used or expired. Ask for a new one to reset your password.",
    askAgain: "Ask for a new link",
    forgotTitle: "Forgot your password?",
    forgotIntro: "Enter your account's email and we will send you a link to choose a new password.",
    email: "Email",
    forgotSubmit: "Send the link",
    sentTitle: "Check your email",
    invalidEmail: "Enter a valid email address.",
  },
} as const satisfies Record<Locale, Record<string, unknown>>;

export type PageCopy = (typeof pageCopy)[Locale];
