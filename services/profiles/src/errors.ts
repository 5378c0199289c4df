import { defineProblems, type ProblemText } from "@mimascota/shared/errors";

/** Every code the profile service answers with besides the shared edge's; clients branch on `code`. */
const profileProblemSpecs = {
  /** No profile with this id that the caller owns (another user's profile is not found either). */
  PROFILE_NOT_FOUND: { status: 404 },
  PHOTO_NOT_FOUND: { status: 404 },
  /** The upload is not a JPEG, PNG or WebP image this service can safely re-encode. */
  INVALID_PHOTO: { status: 400 },
  PHOTO_TOO_LARGE: { status: 413 },
  UNDERAGE: { status: 400 },
} as const;

type ProfileProblemCode = keyof typeof profileProblemSpecs;

const es: Record<ProfileProblemCode, ProblemText> = {
  PROFILE_NOT_FOUND: {
    title: "Perfil no encontrado",
    detail: "No existe un perfil tuyo con ese identificador.",
  },
  PHOTO_NOT_FOUND: { title: "Foto no encontrada", detail: "La foto no existe o fue reemplazada." },
  INVALID_PHOTO: {
    title: "Foto no válida",
    detail: "Sube una imagen JPEG, PNG o WebP.",
    variants: {
      unsupported_type: "El archivo no es una imagen JPEG, PNG o WebP.",
      corrupt: "La imagen está dañada o incompleta.",
      too_many_pixels: "La imagen es demasiado grande: reduce su resolución.",
      missing_file: "Falta el archivo: envíalo en el campo «file» de un formulario multipart/form-data.",
    },
  },
  PHOTO_TOO_LARGE: {
    title: "Foto demasiado grande",
    detail: "La foto supera el tamaño máximo de {maxMb} MB.",
  },
  UNDERAGE: { title: "Edad insuficiente", detail: "Debes tener al menos {minimumAge} años." },
};

const en: Record<ProfileProblemCode, ProblemText> = {
  PROFILE_NOT_FOUND: { title: "Profile not found", detail: "You have no profile with this id." },
  PHOTO_NOT_FOUND: { title: "Photo not found", detail: "The photo does not exist or was replaced." },
  INVALID_PHOTO: {
    title: "Invalid photo",
    detail: "Upload a JPEG, PNG or WebP image.",
    variants: {
      unsupported_type: "The file is not a JPEG, PNG or WebP image.",
      corrupt: "The image is damaged or incomplete.",
      too_many_pixels: "The image is too large: lower its resolution.",
      missing_file: "The file is missing: send it in the “file” field of a multipart/form-data form.",
    },
  },
  PHOTO_TOO_LARGE: { title: "Photo too large", detail: "The photo is larger than {maxMb} MB." },
  UNDERAGE: { title: "Too young", detail: "You must be at least {minimumAge} years old." },
};

export const problems = defineProblems(profileProblemSpecs, { es, en });
