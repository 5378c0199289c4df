import type { Executor } from "@mimascota/shared/db/database";
import { twoFactorChallenges } from "../db/schema.ts";

export interface NewTwoFactorChallenge {
  id: string;
  userId: string;
  tokenHash: string;
  createdAt: Date;
  expiresAt: Date;
  userAgent: string | null;
  ip: string | null;
}

/** The pending second step of a password login with 2FA on; the token is stored only as a digest. */
export class TwoFactorChallengeRepository {
  async create(tx: Executor, challenge: NewTwoFactorChallenge): Promise<void> {
    await tx.insert(twoFactorChallenges).values(challenge);
  }
}
