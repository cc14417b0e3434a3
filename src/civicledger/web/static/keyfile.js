// Key files in the browser: exactly the format of core/keyfile.py, so a backup made here opens
// with `civic` and the SDK, and a key file made there imports here. A key file is UTF-8 JSON:
//   {"format": "civicledger-keyfile", "version": 1, "label", "public_key" (hex), "address",
//    "kdf": {"name": "argon2id", "opslimit", "memlimit", "salt" (base64)},
//    "cipher": {"name": "xsalsa20poly1305", "nonce" (base64), "ciphertext" (base64)}}
// The key is Argon2id of the passphrase (NFC, UTF-8) and the salt (static/keyfile-worker.js);
// it seals the canonical encoding of {"label", "seed"} in a SecretBox. The public key, address
// and label stay in clear and are checked against the sealed seed when the file is opened.
//
// WebCrypto has neither Argon2id nor XSalsa20-Poly1305, so two vendored libraries do that
// (static/vendor/README.md): hash-wasm's Argon2id, tweetnacl's secretbox. Errors are Errors
// with a `code`; the page shows them as `keyfile.error.<code>`.
import { addressOf, addressText, decode, encode, equalBytes, fromBase64, fromHex, toBase64, toHex, utf8 } from "/static/civic.js";

export const FORMAT = "civicledger-keyfile";
export const VERSION = 1;
const KDF_NAME = "argon2id";
const CIPHER_NAME = "xsalsa20poly1305";

// libsodium's crypto_pwhash_argon2id limits, as keyfile.py accepts them.
export const OPSLIMIT_RANGE = [1, 4]; // MIN .. SENSITIVE
export const MEMLIMIT_RANGE = [8192, 1024 ** 3]; // MIN .. SENSITIVE (1 GiB)
export const INTERACTIVE = { opslimit: 2, memlimit: 64 * 1024 ** 2 };
export const MODERATE = { opslimit: 3, memlimit: 256 * 1024 ** 2 };
/** What the browser seals with: keyfile.py's own default (see static/vendor/README.md for why). */
export const DEFAULT_LIMITS = MODERATE;

const SALT_BYTES = 16;
const NONCE_BYTES = 24;
const KEY_BYTES = 32;
const MAC_BYTES = 16;
const SEED_BYTES = 32;
const PUBLIC_KEY_BYTES = 32;
const MAX_LABEL = 120;
export const MAX_FILE_SIZE = 16 * 1024;
const PLAINTEXT_MAX = 1024;

function fail(code, message) {
  throw Object.assign(new Error(message), { code });
}

// -- the vendored libraries, loaded on first use -------------------------------------------------

let naclLoaded = null;

function nacl() {
  naclLoaded ??= new Promise((resolve, reject) => {
    const script = Object.assign(document.createElement("script"), { src: "/static/vendor/tweetnacl/nacl-fast.min.js" });
    script.onload = () => resolve(globalThis.nacl);
    script.onerror = () => { naclLoaded = null; reject(Object.assign(new Error("nacl"), { code: "network" })); };
    document.head.append(script);
  });
  return naclLoaded;
}

/** The 32-byte SecretBox key for `passphrase` (libsodium crypto_pwhash, Argon2id). */
export function derive(passphrase, salt, opslimit, memlimit) {
  const password = utf8.encode(passphrase.normalize("NFC"));
  return new Promise((resolve, reject) => {
    const worker = new Worker("/static/keyfile-worker.js");
    const done = (settle, value) => { worker.terminate(); settle(value); };
    worker.onmessage = ({ data }) => (data.key ? done(resolve, data.key)
      : done(reject, Object.assign(new Error(data.error), { code: "no_memory" })));
    worker.onerror = (event) => { event.preventDefault(); done(reject, Object.assign(new Error(event.message), { code: "no_memory" })); };
    worker.postMessage({ password, salt, opslimit, memlimit }, [password.buffer]);
  });
}

/** The Ed25519 public key of a 32-byte seed. */
export async function publicKeyOf(seed) {
  const pair = (await nacl()).sign.keyPair.fromSeed(seed);
  pair.secretKey.fill(0); // it holds the seed
  return pair.publicKey;
}

// -- sealing and opening (core/keyfile.py seal / unseal) -----------------------------------------

function labelOk(label) {
  // Python's str.isprintable: no control, format, private-use, unassigned or separator
  // characters other than the plain space.
  return [...label].length <= MAX_LABEL && /^(?:[^\p{C}\p{Z}]| )*$/u.test(label);
}

function checkLimits(opslimit, memlimit) {
  return Number.isSafeInteger(opslimit) && Number.isSafeInteger(memlimit)
    && opslimit >= OPSLIMIT_RANGE[0] && opslimit <= OPSLIMIT_RANGE[1]
    && memlimit >= MEMLIMIT_RANGE[0] && memlimit <= MEMLIMIT_RANGE[1];
}

/** Key file bytes holding `seed` sealed under `passphrase` (the caller keeps and wipes the seed). */
export async function seal(seed, passphrase, {
  label = "", opslimit = DEFAULT_LIMITS.opslimit, memlimit = DEFAULT_LIMITS.memlimit,
} = {}) {
  if (!passphrase) fail("empty_passphrase", "a key file needs a non-empty passphrase");
  if (!passphrase.isWellFormed()) fail("empty_passphrase", "the passphrase is not valid Unicode text");
  if (typeof label !== "string" || !labelOk(label)) fail("damaged", "a key label is printable text");
  if (!checkLimits(opslimit, memlimit)) fail("bad_limits", "the Argon2id limits are out of range");
  const box = (await nacl()).secretbox;
  const publicKey = await publicKeyOf(seed);
  const salt = crypto.getRandomValues(new Uint8Array(SALT_BYTES));
  const nonce = crypto.getRandomValues(new Uint8Array(NONCE_BYTES));
  const key = await derive(passphrase, salt, opslimit, memlimit);
  const plaintext = encode({ label, seed });
  const ciphertext = box(plaintext, nonce, key);
  plaintext.fill(0);
  key.fill(0);
  const doc = {
    format: FORMAT, version: VERSION, label, public_key: toHex(publicKey),
    address: addressText(await addressOf(publicKey)),
    kdf: { name: KDF_NAME, opslimit, memlimit, salt: toBase64(salt) },
    cipher: { name: CIPHER_NAME, nonce: toBase64(nonce), ciphertext: toBase64(ciphertext) },
  };
  return utf8.encode(JSON.stringify(doc, null, 2) + "\n");
}

/** The clear fields of key file `data` (bytes), checked for shape: {doc, publicKey, address, label}. */
export async function publicInfo(data) {
  if (!(data instanceof Uint8Array) || data.length > MAX_FILE_SIZE) fail("too_big", "a key file is at most 16 KiB");
  let doc;
  try {
    doc = JSON.parse(new TextDecoder("utf-8", { fatal: true }).decode(data));
  } catch {
    fail("not_keyfile", "not a key file: not UTF-8 JSON");
  }
  if (!isObject(doc) || doc.format !== FORMAT) fail("not_keyfile", `not a key file: no "format": "${FORMAT}"`);
  if (doc.version !== VERSION) fail("unsupported_version", `key file version ${doc.version} is not supported`);
  const { label } = doc;
  if (typeof label !== "string" || !labelOk(label)) fail("damaged", "the key file's label is not a valid label");
  if (typeof doc.public_key !== "string" || doc.public_key.length !== 2 * PUBLIC_KEY_BYTES
      || !/^[0-9a-f]*$/i.test(doc.public_key)) {
    fail("damaged", "the key file's public_key is not 32 bytes of hex");
  }
  const publicKey = fromHex(doc.public_key);
  if (doc.address !== addressText(await addressOf(publicKey))) {
    fail("address_mismatch", "the key file's address does not belong to its public key");
  }
  return { doc, publicKey, address: doc.address, label };
}

/** Open key file `data` (bytes): {seed, publicKey, address, label}; the caller wipes the seed. */
export async function unseal(data, passphrase) {
  const { doc, publicKey, address, label } = await publicInfo(data);
  const kdf = section(doc, "kdf", KDF_NAME), cipher = section(doc, "cipher", CIPHER_NAME);
  if (!checkLimits(kdf.opslimit, kdf.memlimit)) fail("bad_limits", "the key file's Argon2id limits are out of range");
  const salt = bytesOf(kdf, "salt", SALT_BYTES, SALT_BYTES);
  const nonce = bytesOf(cipher, "nonce", NONCE_BYTES, NONCE_BYTES);
  const ciphertext = bytesOf(cipher, "ciphertext", MAC_BYTES, PLAINTEXT_MAX);
  if (!passphrase || !passphrase.isWellFormed()) fail("wrong_passphrase", "wrong passphrase");
  const box = (await nacl()).secretbox;
  const key = await derive(passphrase, salt, kdf.opslimit, kdf.memlimit);
  const plaintext = box.open(ciphertext, nonce, key);
  key.fill(0);
  if (!plaintext) fail("wrong_passphrase", "wrong passphrase, or the key file's sealed part was altered");
  let sealed;
  try {
    sealed = decode(plaintext);
    if (!equalBytes(encode(sealed), plaintext)) throw new Error("not canonical");
  } catch {
    sealed = null;
  } finally {
    plaintext.fill(0);
  }
  const keys = isObject(sealed) ? Object.keys(sealed).sort().join() : "";
  if (keys !== "label,seed" || !(sealed.seed instanceof Uint8Array) || sealed.seed.length !== SEED_BYTES) {
    fail("damaged", "the sealed part of the key file is not a key");
  }
  const { seed } = sealed;
  if (!equalBytes(await publicKeyOf(seed), publicKey) || sealed.label !== label) {
    seed.fill(0);
    fail("key_mismatch", "the key file's clear fields do not match its sealed key");
  }
  return { seed, publicKey, address, label };
}

function isObject(value) {
  return typeof value === "object" && value !== null && !Array.isArray(value);
}

function section(doc, name, algorithm) {
  const part = doc[name];
  if (!isObject(part) || part.name !== algorithm) fail("unsupported_algorithm", `the key file's ${name} is not ${algorithm}`);
  return part;
}

const BASE64 = /^(?:[A-Za-z0-9+/]{4})*(?:[A-Za-z0-9+/]{2}==|[A-Za-z0-9+/]{3}=)?$/;

function bytesOf(part, name, low, high) {
  const text = part[name];
  if (typeof text !== "string" || !BASE64.test(text)) fail("damaged", `the key file's ${name} is not base64`);
  const value = fromBase64(text);
  if (value.length < low || value.length > high) fail("damaged", `the key file's ${name} has the wrong size`);
  return value;
}

/** The keyfile.error.* codes this module throws (tests check each has a text). */
export const ERROR_CODES = [
  "empty_passphrase", "bad_limits", "too_big", "not_keyfile", "unsupported_version", "damaged",
  "address_mismatch", "unsupported_algorithm", "wrong_passphrase", "key_mismatch", "no_memory",
];
