import type { Clock } from "@mimascota/shared/clock";
import type { Database } from "@mimascota/shared/db/database";
import type { UnitOfWork } from "@mimascota/shared/db/unit-of-work";
import { problems } from "../errors.ts";
import type { AccountMailer } from "../mail/account-mailer.ts";
import type { BackupCodeRepository } from "../repositories/backup-code.repository.ts";
import type { TwoFactorCredential, TwoFactorRepository } from "../repositories/two-factor.repository.ts";
import type { UserRepository } from "../repositories/user.repository.ts";
import { generateBackupCodes, hashBackupCodes } from "../two-factor/backup-codes.ts";
import { qrCodeDataUrl } from "../two-factor/qr-code.ts";
import type { SecretBox } from "../two-factor/secret-box.ts";
import { generateSecret, otpauthUrl } from "../two-factor/totp.ts";
import type { SessionRevoker } from "./account-ports.ts";
import type { CurrentPasswordCheck } from "./current-password.ts";
import { totpSecretAad, type TwoFactorCheckService } from "./two-factor-check.service.ts";
import { announceTwoFactorChange, turnTwoFactorOff } from "./two-factor-off.ts";

export interface TwoFactorDeps {
  db: Database;
  clock: Clock;
  users: UserRepository;
  currentPassword: CurrentPasswordCheck;
  credentials: TwoFactorRepository;
  backupCodes: BackupCodeRepository;
  sealer: SecretBox;
  checker: TwoFactorCheckService;
  sessions: SessionRevoker;
  mailer: AccountMailer;
  /** Runs the transactions: after commit it wakes the mail and event workers and runs the hooks (revocations). */
  work: UnitOfWork;
}

export interface CallerSession {
  userId: string;
  sessionId: string;
}

export interface TwoFactorStatus {
  enabled: boolean;
  pending: boolean;
  enabledAt: string | null;
  backupCodesRemaining: number;
}

/** The management endpoints answer a wrong code with 400 (the caller is signed in; 401 is the login step's). */
const invalidCode = () => problems.error("INVALID_2FA_CODE", { status: 400, variant: "setup" });
const notEnabled = () => problems.error("TWO_FACTOR_NOT_ENABLED");

/** Turning 2FA on and off, backup codes and status, for the signed-in user. */
export class TwoFactorService {
  readonly #deps: TwoFactorDeps;

  constructor(deps: TwoFactorDeps) {
    this.#deps = deps;
  }

  async status(userId: string): Promise<TwoFactorStatus> {
    const { credentials, backupCodes } = this.#deps;
    const [credential, enabledAt, remaining] = await Promise.all([
      credentials.find(userId),
      credentials.enabledAt(userId),
      backupCodes.countUnused(userId),
    ]);
    return {
      enabled: enabledAt !== null,
      pending: credential !== undefined && credential.confirmedAt === null,
      enabledAt: enabledAt?.toISOString() ?? null,
      backupCodesRemaining: enabledAt ? remaining : 0,
    };
  }

  /**
   * Starts (or restarts) a setup: a fresh secret, sealed at rest, shown once as text and as a QR code, and the
   * ten backup codes it will come with (the original front end shows them on this screen), sealed beside it
   * until verify-setup turns them into usable, hashed codes. Without a password, only a session that signed
   * in within RECENT_AUTH_WINDOW may start it.
   */
  async enable(auth: CallerSession, password: string | undefined) {
    const user = await this.#deps.currentPassword.verifyOrRecent(auth, password);
    if (await this.#deps.credentials.enabledAt(user.id)) throw alreadyEnabled();
    const secret = generateSecret();
    const backupCodes = generateBackupCodes();
    const sealed = {
      secret: this.#deps.sealer.seal(secret, totpSecretAad(user.id)),
      backupCodes: this.#deps.sealer.seal(JSON.stringify(backupCodes), pendingBackupCodesAad(user.id)),
    };
    if (!(await this.#deps.credentials.savePending(this.#deps.db, user.id, sealed, this.#deps.clock.now()))) {
      throw alreadyEnabled();
    }
    const url = otpauthUrl(user.email, secret);
    return { secret, otpauthUrl: url, qrCode: await qrCodeDataUrl(url), backupCodes };
  }

  /**
   * Confirms the pending secret with a code: 2FA is on, the other sessions end, and the backup codes enable
   * showed become usable (shown again here). `secret`, when the caller sends it back, must be the pending one.
   */
  async verifySetup(auth: CallerSession, code: string, secret?: string) {
    const { credentials, checker, sealer } = this.#deps;
    const credential = await credentials.find(auth.userId);
    const user = await this.#deps.users.findRecipientById(auth.userId);
    if (!user || !credential || credential.confirmedAt) throw notPending();
    if (secret !== undefined && secret !== sealer.open(credential.secretSealed, totpSecretAad(user.id))) {
      throw problems.error("TWO_FACTOR_SECRET_MISMATCH");
    }
    await checker.check(user, credential, code, { acceptBackupCode: false, invalid: invalidCode });
    const backupCodes = this.#pendingBackupCodes(user.id, credential) ?? generateBackupCodes();
    const hashes = await hashBackupCodes(backupCodes);
    await this.#deps.work.run(async (tx) => {
      const now = this.#deps.clock.now();
      // A concurrent confirmation won (this one must not hand out a second set of codes), or the secret changed.
      if (!(await credentials.confirm(tx, user.id, credential.secretSealed, now))) throw notPending();
      await this.#deps.backupCodes.replaceAll(tx, user.id, hashes, now);
      await announceTwoFactorChange(tx, this.#deps, user, "enabled", {
        now,
        exceptSessionId: auth.sessionId,
      });
    });
    return { enabled: true as const, backupCodes };
  }

  /**
   * Needs a code (a backup code too, for a lost phone) and the password, which a session that signed in
   * within RECENT_AUTH_WINDOW may leave out; ends the other sessions.
   */
  async disable(auth: CallerSession, password: string | undefined, code: string) {
    const user = await this.#deps.currentPassword.verifyOrRecent(auth, password);
    const credential = await this.#confirmedCredential(user.id);
    await this.#deps.checker.check(user, credential, code, { acceptBackupCode: true, invalid: invalidCode });
    await this.#deps.work.run(async (tx) => {
      const options = { now: this.#deps.clock.now(), exceptSessionId: auth.sessionId };
      if (!(await turnTwoFactorOff(tx, this.#deps, user, options))) throw notEnabled();
    });
    return { enabled: false as const };
  }

  /** A new set of 10 codes; every earlier code stops working in the same transaction. */
  async regenerateBackupCodes(auth: CallerSession, code: string) {
    const user = await this.#deps.users.findRecipientById(auth.userId);
    if (!user) throw notEnabled();
    const credential = await this.#confirmedCredential(user.id);
    await this.#deps.checker.check(user, credential, code, { acceptBackupCode: true, invalid: invalidCode });
    const backupCodes = generateBackupCodes();
    const hashes = await hashBackupCodes(backupCodes);
    await this.#deps.work.run(async (tx) => {
      if (!(await this.#deps.credentials.enabledAt(user.id, tx))) throw notEnabled();
      await this.#deps.backupCodes.replaceAll(tx, user.id, hashes, this.#deps.clock.now());
    });
    return { backupCodes };
  }

  /**
   * The codes enable showed. A setup begun before they were kept, or sealed with a key that has since been
   * dropped, gets new ones (shown by verify-setup all the same).
   */
  #pendingBackupCodes(userId: string, credential: TwoFactorCredential): string[] | undefined {
    if (credential.pendingBackupCodesSealed === null) return undefined;
    try {
      const codes: unknown = JSON.parse(
        this.#deps.sealer.open(credential.pendingBackupCodesSealed, pendingBackupCodesAad(userId)),
      );
      return Array.isArray(codes) && codes.every((c) => typeof c === "string") ? codes : undefined;
    } catch {
      return undefined;
    }
  }

  async #confirmedCredential(userId: string): Promise<TwoFactorCredential> {
    const credential = await this.#deps.credentials.find(userId);
    if (!credential?.confirmedAt) throw notEnabled();
    return credential;
  }
}

const pendingBackupCodesAad = (userId: string) => `backup-codes:${userId}`;

function alreadyEnabled() {
  return problems.error("TWO_FACTOR_ALREADY_ENABLED");
}

function notPending() {
  return problems.error("TWO_FACTOR_NOT_PENDING");
}
