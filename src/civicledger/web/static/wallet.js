// The self-custody wallet: an Ed25519 key made by WebCrypto in this browser, its private half
// non-extractable and kept in IndexedDB; transactions built and signed here (core/tx.py) and
// only the signed envelope sent to the gateway. The server never sees a private key.
import {
  SIGNATURE_TAG, TX_ID_TAG, addressOf, addressText, concat, digest, encode, t, toBase64, toHex,
} from "/static/civic.js";

const DB_NAME = "civicledger";
const STORE = "keys";
const KEY_ID = "default";
export const TX_VERSION = 1;
export const TTL_MS = 10 * 60 * 1000;
const NONCE_BYTES = 16;

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

/** The wallet kept in this browser, or null: {publicKey (32 bytes), address (civ1…), keys}. */
export async function load() {
  const record = await withStore("readonly", (store) => store.get(KEY_ID));
  return record ? { publicKey: new Uint8Array(record.publicKey), address: record.address, keys: record.keys } : null;
}

/** Make a new key pair whose private key can never leave the browser, and keep it. */
export async function create() {
  const keys = await crypto.subtle.generateKey({ name: "Ed25519" }, false, ["sign", "verify"]);
  const publicKey = new Uint8Array(await crypto.subtle.exportKey("raw", keys.publicKey));
  const address = addressText(await addressOf(publicKey));
  await withStore("readwrite", (store) => store.put({ id: KEY_ID, keys, publicKey, address, created: Date.now() }));
  return { publicKey, address, keys };
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
