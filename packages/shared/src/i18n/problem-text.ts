import type { Locale } from "./locale.ts";

/** What a user reads for one code, in one language; `variants` name more specific details of the same code. */
export interface ProblemText {
  title: string;
  detail: string;
  variants?: Record<string, string>;
}

/** Every code's texts in every language; a catalogue missing a code or a language does not type-check. */
export type ProblemTexts<C extends string = string> = Record<Locale, Record<C, ProblemText>>;
