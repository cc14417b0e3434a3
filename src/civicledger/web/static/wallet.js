// The self-custody wallet: an Ed25519 key made by WebCrypto in this browser, its private half
// non-extractable and kept in IndexedDB; transactions built and signed here (core/tx.py) and
// only the signed envelope sent to the gateway. The server never sees a private key.
// A wallet is made together with its backup, a key file sealed under the citizen's passphrase
// (static/keyfile.js, the format of core/keyfile.py), or imported from such a file.
import {
  SIGNATURE_TAG, TX_ID_TAG, addressOf, addressText, concat, digest, encode, fromHex, t, toBase64, toHex,
} from "/static/civic.js";
import * as keyfile from "/static/keyfile.js";

const DB_NAME = "civicledger";
const STORE = "keys";
const KEY_ID = "default";
export const TX_VERSION = 1;
export const TTL_MS = 10 * 60 * 1000;
const NONCE_BYTES = 16;
const SEED_BYTES = 32;
const PKCS8_ED25519_PREFIX = fromHex("302e020100300506032b657004220420");
/** Shortest passphrase accepted for a new key file, in characters. */
export const MIN_PASSPHRASE = 10;

function request(r) {
  return new Promise((resolve, reject) => { r.onsuccess = () => resolve(r.result); r.onerror = () => reject(r.error); });
}

async function database() {
  const open = indexedDB.open(DB_NAME, 1);
  open.onupgradeneeded = () => open.result.createObjectStore(STORE, { keyPath: "id" });
  return request(open);
}

async function withStore(mode, action) {
  const db = await database();
  try {
    const tx = db.transaction(STORE, mode);
    const result = await request(action(tx.objectStore(STORE)));
    await new Promise((resolve, reject) => { tx.oncomplete = resolve; tx.onerror = () => reject(tx.error); });
    return result;
  } finally {
    db.close();
  }
}

/** True if this browser can make and use Ed25519 keys (a secure context with WebCrypto Ed25519). */
export async function supported() {
  if (!globalThis.isSecureContext || !crypto?.subtle || !globalThis.indexedDB) return false;
  try {
    await crypto.subtle.generateKey({ name: "Ed25519" }, false, ["sign", "verify"]);
    return true;
  } catch {
    return false;
  }
}

/** The wallet kept in this browser, or null: {publicKey (32 bytes), address (civ1…), keys, backup}.
 * `backup` says where its key file is: "created" (offered as a download when it was made),
 * "imported" (the file it came from), or null (made before backups: it has none). */
export async function load() {
  const record = await withStore("readonly", (store) => store.get(KEY_ID));
  return record ? {
    publicKey: new Uint8Array(record.publicKey), address: record.address, keys: record.keys,
    backup: record.backup ?? null,
  } : null;
}

/** Make a new key pair whose private key can never leave the browser, and keep it (without a
 * backup: the wallet page makes keys with createWithBackup). */
export async function create() {
  const keys = await crypto.subtle.generateKey({ name: "Ed25519" }, false, ["sign", "verify"]);
  const publicKey = new Uint8Array(await crypto.subtle.exportKey("raw", keys.publicKey));
  const address = addressText(await addressOf(publicKey));
  await withStore("readwrite", (store) => store.put({ id: KEY_ID, keys, publicKey, address, created: Date.now() }));
  return { publicKey, address, keys };
}

/** Keep the key of a 32-byte `seed` in this browser as a non-extractable key, replacing the
 * wallet here; `backup` as in load(). The caller wipes the seed. */
async function keep(seed, publicKey, backup) {
  const pkcs8 = concat(PKCS8_ED25519_PREFIX, seed);
  let privateKey;
  try {
    privateKey = await crypto.subtle.importKey("pkcs8", pkcs8, { name: "Ed25519" }, false, ["sign"]);
  } finally {
    pkcs8.fill(0);
  }
  const verifier = await crypto.subtle.importKey("raw", publicKey, { name: "Ed25519" }, true, ["verify"]);
  const probe = crypto.getRandomValues(new Uint8Array(32));
  const signature = await crypto.subtle.sign({ name: "Ed25519" }, privateKey, probe);
  if (!(await crypto.subtle.verify({ name: "Ed25519" }, verifier, signature, probe))) {
    throw Object.assign(new Error("the key does not sign for its public key"), { code: "key_mismatch" });
  }
  const keys = { privateKey, publicKey: verifier };
  const address = addressText(await addressOf(publicKey));
  await withStore("readwrite", (store) => store.put({ id: KEY_ID, keys, publicKey, address, created: Date.now(), backup }));
  return { publicKey, address, keys, backup };
}

/** The file name a backup of `address` is offered under. */
export function backupName(address) {
  return `civicledger-${address.slice(0, 12)}.json`;
}

/** A new key sealed under `passphrase`; with `store`, also kept here as the wallet.
 * Returns {wallet, address, file (key file bytes), fileName, limits}. The seed exists only
 * while this runs. Argon2id takes keyfile.py's default limits; a device that cannot spare their
 * memory falls back to libsodium's interactive limits (still accepted by keyfile.py). */
async function makeKey(passphrase, store, onStep) {
  if ([...passphrase].length < MIN_PASSPHRASE) {
    throw Object.assign(new Error("passphrase too short"), { code: "short_passphrase" });
  }
  const seed = crypto.getRandomValues(new Uint8Array(SEED_BYTES));
  try {
    const publicKey = await keyfile.publicKeyOf(seed);
    let limits = keyfile.DEFAULT_LIMITS;
    onStep("sealing");
    let file;
    try {
      file = await keyfile.seal(seed, passphrase, limits);
    } catch (error) {
      if (error.code !== "no_memory") throw error;
      limits = keyfile.INTERACTIVE;
      file = await keyfile.seal(seed, passphrase, limits);
    }
    const wallet = store ? await keep(seed, publicKey, "created") : null;
    const address = addressText(await addressOf(publicKey));
    return { wallet, address, file, fileName: backupName(address), limits };
  } finally {
    seed.fill(0);
  }
}

/** Make a new wallet here together with its backup key file (see makeKey). */
export function createWithBackup(passphrase, onStep = () => {}) {
  return makeKey(passphrase, true, onStep);
}

/** A new key file only, leaving this browser's wallet as it is (to move funds to a backed-up key). */
export function newKeyFile(passphrase, onStep = () => {}) {
  return makeKey(passphrase, false, onStep);
}

/** Open key file `data` (bytes) with `passphrase` and keep its key as this browser's wallet.
 * If another wallet is here, `confirmReplace(currentAddress, newAddress)` must say true first;
 * if it does not, nothing changes and the answer is null. Throws keyfile's coded errors. */
export async function importKeyFile(data, passphrase, confirmReplace, onStep = () => {}) {
  onStep("opening");
  const opened = await keyfile.unseal(data, passphrase);
  try {
    const current = await load();
    if (current && current.address !== opened.address && !(await confirmReplace(current.address, opened.address))) {
      return null;
    }
    return await keep(opened.seed, opened.publicKey, "imported");
  } finally {
    opened.seed.fill(0);
  }
}

/** core.tx.Transaction.body: the canonical bytes of a call. */
export function transactionBody({ chainId, contract, method, args, signer, nonce, expires, cosigners = [] }) {
  return encode([TX_VERSION, chainId, contract, method, args, signer, cosigners, nonce, expires]);
}

/** The signed envelope [body, [signature]] and the transaction id, signed by `keys.privateKey`. */
export async function sign(body, privateKey) {
  const id = await digest(TX_ID_TAG, body);
  const signature = new Uint8Array(await crypto.subtle.sign({ name: "Ed25519" }, privateKey, concat(SIGNATURE_TAG, id)));
  return { id: toHex(id), envelope: encode([body, [signature]]) };
}

let chainId = null;

async function chain() {
  if (chainId === null) chainId = (await api("GET", "/v1/chain")).chain_id;
  return chainId;
}

/** A gateway call; throws an Error with `code` (the gateway's error code, or `network`). */
export async function api(method, path, body) {
  let response;
  try {
    response = await fetch(path, {
      method, headers: body ? { "content-type": "application/json" } : {},
      body: body ? JSON.stringify(body) : undefined,
    });
  } catch {
    throw Object.assign(new Error("network"), { code: "network" });
  }
  const data = await response.json().catch(() => ({}));
  if (!response.ok && response.status !== 202) {
    const error = data.error || { code: "http_" + response.status, message: response.statusText };
    throw Object.assign(new Error(error.message), { code: error.code });
  }
  return data;
}

/** Build, sign and submit a call as `wallet`; returns the gateway's answer (waits up to 10 s). */
export async function call(wallet, contract, method, args, onStep = () => {}) {
  onStep("signing");
  const nonce = crypto.getRandomValues(new Uint8Array(NONCE_BYTES));
  const body = transactionBody({
    chainId: await chain(), contract, method, args, signer: wallet.publicKey, nonce,
    expires: Date.now() + TTL_MS,
  });
  const signed = await sign(body, wallet.keys.privateKey);
  onStep("submitting", signed.id);
  return api("POST", "/v1/transactions?wait=true&timeout_ms=10000", { envelope: toBase64(signed.envelope) });
}

/** Ask until the transaction is committed (or `limitMs` passes): its TxView, or null. */
export async function settle(txId, limitMs = 60000) {
  const deadline = Date.now() + limitMs;
  while (Date.now() < deadline) {
    try {
      const view = await api("GET", `/v1/transactions/${txId}`);
      if (view.state === "committed") return view;
    } catch (error) {
      if (error.code !== "unknown_transaction" && error.code !== "network") throw error;
    }
    await new Promise((resolve) => setTimeout(resolve, 500));
  }
  return null;
}

/** A plain-words sentence for an error code, in the page's language. */
export function explain(code, message = "") {
  const key = `error.${code}`;
  const text = t(key);
  return text === key ? t("error.unknown", { code, message }) : text;
}
