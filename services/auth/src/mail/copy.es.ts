import type { MailCopy } from "./mail-content.ts";

const hello = (name: string | null) => (name ? `Hola, ${name}:` : "Hola:");
const closing = "El equipo de Mi Mascota";
const notYou = "Si no fuiste tú, restablece tu contraseña ahora y revisa la seguridad de tu cuenta.";

export const copyEs: MailCopy = {
  "verify-email": (v) => ({
    subject: "Confirma tu dirección de correo",
    heading: hello(v.name),
    paragraphs: [
      "Gracias por registrarte en Mi Mascota. Confirma tu dirección de correo para poder iniciar sesión.",
      `El enlace caduca en ${v.validHours} horas y solo se puede usar una vez.`,
      "Si no creaste esta cuenta, ignora este mensaje.",
    ],
    action: { label: "Confirmar mi correo", url: v.link },
    closing,
  }),
  "already-registered": (v) => ({
    subject: "Alguien intentó registrarse con tu correo",
    heading: hello(v.name),
    paragraphs: [
      "Alguien (quizá tú) intentó crear una cuenta de Mi Mascota con esta dirección de correo, pero ya tienes una.",
      `Puedes iniciar sesión en ${v.loginLink}. Si olvidaste tu contraseña, puedes restablecerla.`,
      "Si no fuiste tú, no tienes que hacer nada: tu cuenta no ha cambiado.",
    ],
    action: { label: "Restablecer mi contraseña", url: v.resetLink },
    closing,
  }),
  "reset-password": (v) => ({
    subject: "Restablece tu contraseña",
    heading: hello(v.name),
    paragraphs: [
      "Recibimos una solicitud para restablecer la contraseña de tu cuenta de Mi Mascota.",
      `El enlace caduca en ${v.validMinutes} minutos y solo se puede usar una vez.`,
      "Si no lo pediste, ignora este mensaje: tu contraseña no cambiará.",
    ],
    action: { label: "Elegir una contraseña nueva", url: v.link },
    closing,
  }),
  "password-changed": (v, when) => ({
    subject: "Tu contraseña ha cambiado",
    heading: hello(v.name),
    paragraphs: [
      `La contraseña de tu cuenta de Mi Mascota se cambió el ${when(v.at)}. Las demás sesiones se cerraron.`,
      notYou,
    ],
    action: { label: "Restablecer mi contraseña", url: v.resetLink },
    closing,
  }),
  "account-locked": (v, when) => ({
    subject: "Tu cuenta se ha bloqueado temporalmente",
    heading: hello(v.name),
    paragraphs: [
      "Hubo demasiados intentos fallidos de inicio de sesión en tu cuenta de Mi Mascota.",
      `Para protegerla, el inicio de sesión está bloqueado hasta el ${when(v.until)}.`,
      "Restablecer tu contraseña desbloquea la cuenta de inmediato.",
    ],
    action: { label: "Restablecer mi contraseña", url: v.resetLink },
    closing,
  }),
  "two-factor-enabled": (v, when) => ({
    subject: "Verificación en dos pasos activada",
    heading: hello(v.name),
    paragraphs: [
      `La verificación en dos pasos se activó en tu cuenta de Mi Mascota el ${when(v.at)}.`,
      "Guarda tus códigos de respaldo en un lugar seguro.",
      notYou,
    ],
    action: { label: "Restablecer mi contraseña", url: v.resetLink },
    closing,
  }),
  "account-deleted": (v, when) => ({
    subject: "Tu cuenta de Mi Mascota se eliminó",
    heading: hello(v.name),
    paragraphs: [
      `Tu cuenta de Mi Mascota y sus datos se eliminaron el ${when(v.at)}, como pediste. Se cerraron todas las sesiones.`,
      "Puedes volver a registrarte con esta dirección cuando quieras.",
      "Si no fuiste tú, alguien tenía acceso a tu cuenta: revisa la seguridad de tu correo.",
    ],
    closing,
  }),
  "two-factor-disabled": (v, when) => ({
    subject: "Verificación en dos pasos desactivada",
    heading: hello(v.name),
    paragraphs: [
      `La verificación en dos pasos se desactivó en tu cuenta de Mi Mascota el ${when(v.at)}.`,
      notYou,
    ],
    action: { label: "Restablecer mi contraseña", url: v.resetLink },
    closing,
  }),
};
