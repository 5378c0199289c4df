import type { ProblemText } from "@mimascota/shared/i18n/problem-text";

/**
 * The auth service's problem texts in Spanish (the default). The front end shows `detail` to its users as it
 * is, and its verify-email page looks for "expirado" or "inválido" in INVALID_TOKEN's detail.
 */
export const authProblemsEs = {
  WEAK_PASSWORD: {
    title: "La contraseña no cumple la política",
    detail: "Elige una contraseña más segura.",
    variants: {
      too_short: "La contraseña debe tener al menos {min} caracteres.",
      too_long: "La contraseña debe tener como máximo {max} caracteres.",
      contains_email: "La contraseña no puede contener tu dirección de correo ni su nombre de usuario.",
      contains_product: "La contraseña no puede contener el nombre del producto.",
      common: "Esta contraseña es demasiado común: aparece en listas de contraseñas filtradas y muy usadas.",
      guessable:
        "Esta contraseña es demasiado fácil de adivinar. Prueba una frase más larga de palabras sin relación.",
    },
  },
  INVALID_TOKEN: {
    title: "Enlace inválido o expirado",
    detail: "El enlace es inválido, ya se usó o ha expirado. Solicita uno nuevo.",
  },
  INVALID_CREDENTIALS: {
    title: "Correo o contraseña incorrectos",
    detail: "El correo o la contraseña son incorrectos.",
  },
  EMAIL_NOT_VERIFIED: {
    title: "Correo sin verificar",
    detail: "Confirma tu dirección de correo con el enlace que te enviamos y luego inicia sesión.",
  },
  INVALID_REFRESH_TOKEN: {
    title: "Sesión no válida",
    detail: "Tu sesión no es válida o expiró. Inicia sesión de nuevo.",
  },
  REFRESH_TOKEN_REUSED: {
    title: "Sesión reutilizada",
    detail: "Esta sesión ya se había renovado; por seguridad se cerró. Inicia sesión de nuevo.",
  },
  REFRESH_TOKEN_STALE: {
    title: "Sesión ya renovada",
    detail: "La sesión se acaba de renovar en otra pestaña; usa la más reciente.",
  },
  CROSS_SITE_REQUEST: {
    title: "Solicitud de otro sitio rechazada",
    detail: "Las solicitudes de otros sitios no pueden usar la cookie de sesión.",
    variants: { origin: "Este origen no puede usar la cookie de sesión." },
  },
  INVALID_CURRENT_PASSWORD: {
    title: "Contraseña actual incorrecta",
    detail: "La contraseña actual es incorrecta.",
  },
  REAUTHENTICATION_REQUIRED: {
    title: "Confirma tu identidad",
    detail: "Por seguridad, ingresa tu contraseña (o vuelve a iniciar sesión) para hacer este cambio.",
  },
  INVALID_2FA_CODE: {
    title: "Código de verificación inválido",
    detail: "El código no es válido. Usa el código actual de tu app o un código de respaldo.",
    variants: { setup: "El código no es válido. Usa el código actual de tu app de autenticación." },
  },
  INVALID_2FA_TOKEN: {
    title: "Paso de verificación inválido o expirado",
    detail: "El paso de verificación expiró o ya se usó. Inicia sesión de nuevo.",
  },
  TOO_MANY_ATTEMPTS: {
    title: "Demasiados intentos",
    detail: "Demasiados códigos incorrectos. Inténtalo de nuevo más tarde.",
    variants: {
      current_password: "Demasiados intentos con una contraseña incorrecta. Inténtalo de nuevo más tarde.",
    },
  },
  TWO_FACTOR_ALREADY_ENABLED: {
    title: "La verificación en dos pasos ya está activada",
    detail: "La verificación en dos pasos ya está activada en tu cuenta.",
  },
  TWO_FACTOR_NOT_PENDING: {
    title: "No hay una activación pendiente",
    detail: "No hay una activación de verificación en dos pasos por confirmar; empieza de nuevo.",
  },
  TWO_FACTOR_NOT_ENABLED: {
    title: "La verificación en dos pasos no está activada",
    detail: "La verificación en dos pasos no está activada en tu cuenta.",
  },
  TWO_FACTOR_SECRET_MISMATCH: {
    title: "La clave no coincide",
    detail: "La clave secreta no coincide con la de la activación pendiente; empieza de nuevo.",
  },
  UNDERAGE: {
    title: "Edad mínima no alcanzada",
    detail: "Debes tener al menos {minAge} años para registrarte.",
  },
} satisfies Record<string, ProblemText>;
