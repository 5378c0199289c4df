/** What an account is on Mi Mascota, chosen at registration; carried in the access token's `roles` claim. */
export type Role = "client" | "provider";
