import { randomUUID } from "node:crypto";
import type { Logger } from "pino";
import type { Clock } from "@mimascota/shared/clock";
import type { Database } from "@mimascota/shared/db/database";
import { afterCommit, UnitOfWork } from "@mimascota/shared/db/unit-of-work";
import { problems } from "../errors.ts";
import type { ProfileMetrics } from "../metrics.ts";
import { PhotoRejectedError, processPhoto, type PhotoLimits } from "../photos/photo-processor.ts";
import type { ObjectDeletionRepository } from "../repositories/object-deletion.repository.ts";
import type { ProfileRepository } from "../repositories/profile.repository.ts";
import type { ObjectStore, StoredObject } from "../storage/object-store.ts";
import type { Caller } from "./profile.service.ts";

/** Where photos live in the store; the file name (a random UUID) is what the public URL carries. */
const PHOTO_FOLDER = "photos/";
const PHOTO_FILE = /^[0-9a-f]{8}-[0-9a-f]{4}-4[0-9a-f]{3}-[89ab][0-9a-f]{3}-[0-9a-f]{12}\.webp$/;

export interface PhotoServiceDeps {
  db: Database;
  clock: Clock;
  logger: Logger;
  profiles: ProfileRepository;
  deletions: ObjectDeletionRepository;
  store: ObjectStore;
  limits: PhotoLimits;
  metrics: ProfileMetrics;
}

/**
 * Profile photos: checked and re-encoded before anything is stored, kept under a random key (so the URL
 * reveals nothing and can be cached forever), and the replaced photo deleted once the new one is committed.
 */
export class PhotoService {
  readonly #deps: PhotoServiceDeps;
  readonly #work: UnitOfWork;

  constructor(deps: PhotoServiceDeps) {
    this.#deps = deps;
    this.#work = new UnitOfWork({ db: deps.db });
  }

  /** The photo's file name for the public URL (`<uuid>.webp`). */
  static fileOf(key: string): string {
    return key.slice(PHOTO_FOLDER.length);
  }

  /**
   * Replaces the caller's photo on their own profile `profileId`. The bytes are checked by content (JPEG, PNG
   * or WebP), bounded in pixels, re-encoded without metadata (no EXIF location) and stored before the row
   * points at them; the old object is deleted after the commit (or later, if the store is down then).
   */
  async upload(caller: Caller, profileId: string, bytes: Buffer): Promise<{ key: string }> {
    const { db, profiles, store, clock } = this.#deps;
    if (!(await profiles.findOwned(db, profileId, caller.userId))) throw problems.error("PROFILE_NOT_FOUND");
    const photo = await this.#process(bytes);
    const key = `${PHOTO_FOLDER}${randomUUID()}.${photo.extension}`;
    await store.put(key, photo.body, photo.contentType);
    let replaced: string | null | undefined;
    try {
      replaced = await this.#work.run(async (tx) => {
        const previous = await profiles.replacePhoto(tx, profileId, caller.userId, key, clock.now());
        if (previous) await this.releaseObject(tx, previous);
        return previous;
      });
    } catch (error) {
      await this.#discard(key);
      throw error;
    }
    if (replaced === undefined) {
      // The profile went away (account deleted) between the check and the update.
      await this.#discard(key);
      throw problems.error("PROFILE_NOT_FOUND");
    }
    this.#deps.metrics.photos.inc("stored");
    return { key };
  }

  /** A stored photo by its public file name; anything that is not one of ours is simply not found. */
  async read(file: string): Promise<StoredObject> {
    const found = PHOTO_FILE.test(file) ? await this.#deps.store.get(`${PHOTO_FOLDER}${file}`) : undefined;
    if (!found) throw problems.error("PHOTO_NOT_FOUND");
    return found;
  }

  /**
   * Records `key` for deletion in the caller's transaction and deletes it once that commits. Used for a
   * replaced photo and for the photo of a deleted profile. Needs a transaction begun by a UnitOfWork.
   */
  async releaseObject(tx: Parameters<ObjectDeletionRepository["request"]>[0], key: string): Promise<void> {
    await this.#deps.deletions.request(tx, key, this.#deps.clock.now());
    afterCommit(tx, () => this.#deleteNow(key));
  }

  /** Retries deletions that failed when first tried (the store was down); returns how many are left. */
  async sweep(limit = 100): Promise<number> {
    const { db, deletions } = this.#deps;
    for (const key of await deletions.pending(db, limit)) await this.#deleteNow(key);
    return deletions.count(db);
  }

  async #deleteNow(key: string): Promise<void> {
    const { db, deletions, store, logger } = this.#deps;
    try {
      await store.delete(key);
      await deletions.done(db, key);
    } catch (error) {
      logger.warn({ err: error }, "stored object not deleted yet; will retry");
      await deletions.failed(db, key).catch(() => {});
    }
  }

  /** A stored object no row will ever point to (its transaction failed): deleted now, or recorded for later. */
  async #discard(key: string): Promise<void> {
    try {
      await this.#deps.store.delete(key);
    } catch {
      await this.#deps.deletions.request(this.#deps.db, key, this.#deps.clock.now()).catch(() => {});
    }
  }

  async #process(bytes: Buffer) {
    try {
      return await processPhoto(bytes, this.#deps.limits);
    } catch (error) {
      if (!(error instanceof PhotoRejectedError)) throw error;
      this.#deps.metrics.photos.inc(error.reason === "too_large" ? "too_large" : "rejected");
      if (error.reason === "too_large") {
        throw problems.error("PHOTO_TOO_LARGE", {
          params: { maxMb: Math.round(this.#deps.limits.maxBytes / (1024 * 1024)) },
        });
      }
      throw problems.error("INVALID_PHOTO", { variant: error.reason });
    }
  }
}
