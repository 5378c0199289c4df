import { createHash, randomBytes } from "node:crypto";
import { constants } from "node:fs";
import { access, mkdir, open, readFile, rename, rm } from "node:fs/promises";
import { basename, dirname, join, resolve, sep } from "node:path";
import { assertValidObjectKey } from "./object-key.ts";
import type { ObjectStore, StoredObject } from "./object-store.ts";

export interface FolderObjectStoreOptions {
  /** The folder that holds the objects (embedded mode: `<DATA_DIR>/objects`). */
  root: string;
}

interface Sidecar {
  contentType: string;
  etag: string;
}

/** What a body is served as when its sidecar is missing or describes other content (see `get`). */
const UNKNOWN_CONTENT_TYPE = "application/octet-stream";

/**
 * Objects as files: `<root>/<key>` holds the bytes and a hidden sidecar beside it, `.<name>.meta.json`, holds
 * the content type (a sidecar rather than the key's extension, so the store keeps what `put` was told, as S3
 * does). No key can name a sidecar or a temporary file: key segments never start with a dot.
 *
 * Each file is written to a temporary name in the same folder and renamed into place, so a reader (or a crash)
 * never sees half a body. The two files are replaced one after the other, though, so the sidecar also records
 * the etag of the body it describes: a body read during an overwrite, or left by a crash between the two
 * renames, does not match it and is served as `application/octet-stream` rather than under another object's
 * type. Keys are random and written once in practice, so this only guards the odd case.
 *
 * The etag is the MD5 of the content in hex, what S3 answers for a single-part upload, so both stores give
 * the same etag for the same bytes (MD5 here identifies content; it is no security boundary).
 */
export class FolderObjectStore implements ObjectStore {
  readonly kind = "folder";
  readonly #root: string;

  constructor(options: FolderObjectStoreOptions) {
    this.#root = resolve(options.root);
  }

  async put(key: string, body: Buffer, contentType: string): Promise<void> {
    const { file, sidecar } = this.#paths(key);
    await mkdir(dirname(file), { recursive: true });
    const meta: Sidecar = { contentType, etag: etagOf(body) };
    await writeAtomically(sidecar, JSON.stringify(meta));
    await writeAtomically(file, body);
  }

  async get(key: string): Promise<StoredObject | undefined> {
    const { file, sidecar } = this.#paths(key);
    const body = await readIfPresent(file);
    if (!body) return undefined;
    const etag = etagOf(body);
    const meta = await readSidecar(sidecar);
    return { body, etag, contentType: meta?.etag === etag ? meta.contentType : UNKNOWN_CONTENT_TYPE };
  }

  async delete(key: string): Promise<void> {
    const { file, sidecar } = this.#paths(key);
    // The body first: once it is gone the object is, whatever happens to the sidecar.
    await rm(file, { force: true });
    await rm(sidecar, { force: true });
  }

  /** Ready when the folder exists (it is made on first use) and this process may write in it. */
  async ping(): Promise<void> {
    await mkdir(this.#root, { recursive: true });
    await access(this.#root, constants.R_OK | constants.W_OK);
  }

  async close(): Promise<void> {}

  #paths(key: string): { file: string; sidecar: string } {
    assertValidObjectKey(key);
    const file = join(this.#root, ...key.split("/"));
    // Defence in depth: the key rule already keeps every path inside the root.
    if (!file.startsWith(this.#root + sep)) throw new Error(`object key escapes the store: ${key}`);
    return { file, sidecar: join(dirname(file), `.${basename(file)}.meta.json`) };
  }
}

function etagOf(body: Buffer): string {
  return createHash("md5").update(body).digest("hex");
}

async function writeAtomically(path: string, data: Buffer | string): Promise<void> {
  const temporary = join(dirname(path), `.${basename(path)}.${randomBytes(8).toString("hex")}.tmp`);
  try {
    const handle = await open(temporary, "wx");
    try {
      await handle.writeFile(data);
      // Flushed before the rename, so after a power cut the name points at the whole new content or the old.
      await handle.sync();
    } finally {
      await handle.close();
    }
    await rename(temporary, path);
  } catch (error) {
    await rm(temporary, { force: true });
    throw error;
  }
}

async function readIfPresent(path: string): Promise<Buffer | undefined> {
  try {
    return await readFile(path);
  } catch (error) {
    if (isMissing(error)) return undefined;
    throw error;
  }
}

async function readSidecar(path: string): Promise<Sidecar | undefined> {
  const raw = await readIfPresent(path);
  if (!raw) return undefined;
  try {
    const parsed = JSON.parse(raw.toString("utf8")) as Partial<Sidecar>;
    if (typeof parsed.contentType === "string" && typeof parsed.etag === "string") {
      return { contentType: parsed.contentType, etag: parsed.etag };
    }
  } catch {
    // A damaged sidecar is treated as a missing one: the body is still served, with the generic type.
  }
  return undefined;
}

function isMissing(error: unknown): boolean {
  const code = (error as NodeJS.ErrnoException | undefined)?.code;
  // ENOTDIR: a key whose folder part is an existing object's name, e.g. `a/b` when `a` is a file.
  return code === "ENOENT" || code === "ENOTDIR";
}
