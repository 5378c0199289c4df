import type { ProblemText } from "./problem-text.ts";

/** The shared edge's problem texts in Spanish (the default language). */
export const commonProblemsEs = {
  VALIDATION_ERROR: {
    title: "Solicitud no válida",
    detail: "La solicitud no es válida: revisa {fields}.",
    variants: { unforwardable: "La solicitud no se puede reenviar al servicio." },
  },
  MALFORMED_JSON: { title: "JSON mal formado", detail: "El cuerpo de la solicitud no es JSON válido." },
  MALFORMED_REQUEST: {
    title: "Solicitud HTTP mal formada",
    detail: "La solicitud HTTP no es válida.",
    variants: {
      path: "La ruta de la solicitud no es válida (una barra o un NUL codificados, o un escape mal escrito).",
    },
  },
  REQUEST_TIMEOUT: {
    title: "Tiempo de espera agotado",
    detail: "La solicitud no llegó completa a tiempo.",
  },
  UNAUTHORIZED: {
    title: "Autenticación requerida",
    detail: "Se necesita un token de acceso válido. Inicia sesión de nuevo.",
  },
  FORBIDDEN: { title: "Acceso denegado", detail: "No tienes permiso para hacer esto." },
  NOT_FOUND: { title: "No encontrado", detail: "El recurso solicitado no existe." },
  METHOD_NOT_ALLOWED: { title: "Método no permitido", detail: "Este método no se admite en esta ruta." },
  PAYLOAD_TOO_LARGE: { title: "Solicitud demasiado grande", detail: "El cuerpo supera el tamaño máximo." },
  UNSUPPORTED_MEDIA_TYPE: {
    title: "Tipo de contenido no admitido",
    detail: "Envía el cuerpo como application/json.",
    variants: { multipart: "Envía el archivo como multipart/form-data." },
  },
  HEADERS_TOO_LARGE: {
    title: "Cabeceras demasiado grandes",
    detail: "Las cabeceras de la solicitud superan el tamaño máximo.",
  },
  RATE_LIMITED: {
    title: "Demasiadas solicitudes",
    detail: "Hiciste demasiadas solicitudes. Espera un momento y vuelve a intentarlo.",
  },
  INTERNAL_ERROR: { title: "Error interno", detail: "Ocurrió un error inesperado. Inténtalo de nuevo." },
  SERVICE_UNAVAILABLE: {
    title: "Servicio no disponible",
    detail: "El servicio no está disponible en este momento. Inténtalo de nuevo en unos segundos.",
    variants: {
      keys_unavailable:
        "No se pueden comprobar los tokens en este momento. Inténtalo de nuevo en unos segundos.",
      not_ready: "El servicio no está listo: {dependencies} no disponible.",
    },
  },
} satisfies Record<string, ProblemText>;
