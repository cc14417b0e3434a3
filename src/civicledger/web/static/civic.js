// CivicLedger in the browser: the byte formats of core/ (canonical MessagePack subset,
// domain-separated SHA-256, Bech32 addresses, RFC 6962 Merkle proofs) and the page's texts.
// Every function here must give the same bytes as its Python twin; tests/web compares them.

const texts = JSON.parse(document.getElementById("i18n")?.textContent || "{}");

/** The page's text for `key` with `{field}`s filled in; a missing key shows as itself. */
export function t(key, fields = {}) {
  const text = texts[key] ?? key;
  return text.replace(/\{(\w+)\}/g, (whole, name) => (name in fields ? String(fields[name]) : whole));
}

export const utf8 = new TextEncoder();

export function concat(...parts) {
  const out = new Uint8Array(parts.reduce((n, p) => n + p.length, 0));
  let at = 0;
  for (const part of parts) { out.set(part, at); at += part.length; }
  return out;
}

export function toHex(bytes) {
  return Array.from(bytes, (b) => b.toString(16).padStart(2, "0")).join("");
}

export function fromHex(text) {
  if (!/^([0-9a-f]{2})*$/i.test(text)) throw new Error("not hex");
  return Uint8Array.from(text.match(/../g) || [], (h) => parseInt(h, 16));
}

export function toBase64(bytes) {
  let text = "";
  for (const b of bytes) text += String.fromCharCode(b);
  return btoa(text);
}

export function fromBase64(text) {
  return Uint8Array.from(atob(text), (c) => c.charCodeAt(0));
}

export function equalBytes(a, b) {
  return a.length === b.length && a.every((x, i) => x === b[i]);
}

// -- hashing (core/crypto.py, core/merkle.py) ---------------------------------------------------

export async function sha256(bytes) {
  return new Uint8Array(await crypto.subtle.digest("SHA-256", bytes));
}

/** core.crypto.digest: SHA-256 of tag || 0x00 || data. */
export async function digest(tag, data) {
  return sha256(concat(utf8.encode(tag), Uint8Array.of(0), data));
}

export const TX_ID_TAG = "civicledger/tx";
export const BLOCK_TAG = "civicledger/block";
export const ADDRESS_TAG = "civicledger/address";
export const SIGNATURE_TAG = utf8.encode("civicledger/tx-signature\u0000");

export const leafHash = (data) => sha256(concat(Uint8Array.of(0), data));
export const nodeHash = (left, right) => sha256(concat(Uint8Array.of(1), left, right));

/** core.merkle.root_from_proof: the root a proof implies for a hashed leaf, or null. */
export async function rootFromProof(leaf, index, size, path) {
  if (!(index >= 0 && index < size)) return null;
  let node = leaf, position = index, width = size, next = 0;
  while (width > 1) {
    if (position % 2) {
      if (next >= path.length) return null;
      node = await nodeHash(path[next++], node);
    } else if (position + 1 < width) {
      if (next >= path.length) return null;
      node = await nodeHash(node, path[next++]);
    }
    position = Math.floor(position / 2);
    width = Math.floor((width + 1) / 2);
  }
  return next === path.length ? node : null;
}

// -- canonical MessagePack subset (core/encoding.py) --------------------------------------------
// Values: null, booleans, integers (Number or BigInt) in [-2**63, 2**64-1], strings, Uint8Array
// (bytes), arrays and plain objects with string keys (encoded in code-point order).

const MIN_INT = -(2n ** 63n);
const MAX_INT = 2n ** 64n - 1n;
const MAX_DEPTH = 16;

function codePointOrder(a, b) {
  const x = Array.from(a, (c) => c.codePointAt(0));
  const y = Array.from(b, (c) => c.codePointAt(0));
  for (let i = 0; i < Math.min(x.length, y.length); i++) if (x[i] !== y[i]) return x[i] - y[i];
  return x.length - y.length;
}

function pushUint(out, value, bytes) {
  const big = BigInt(value);
  for (let i = bytes - 1; i >= 0; i--) out.push(Number((big >> BigInt(8 * i)) & 0xffn));
}

function encodeInt(out, value) {
  const v = BigInt(value);
  if (v < MIN_INT || v > MAX_INT) throw new RangeError(`integer ${v} is outside [-2**63, 2**64-1]`);
  if (v >= 0n) {
    if (v < 128n) out.push(Number(v));
    else if (v < 256n) { out.push(0xcc); pushUint(out, v, 1); }
    else if (v < 65536n) { out.push(0xcd); pushUint(out, v, 2); }
    else if (v < 2n ** 32n) { out.push(0xce); pushUint(out, v, 4); }
    else { out.push(0xcf); pushUint(out, v, 8); }
  } else if (v >= -32n) out.push(Number(v & 0xffn));
  else if (v >= -128n) { out.push(0xd0); pushUint(out, v & 0xffn, 1); }
  else if (v >= -32768n) { out.push(0xd1); pushUint(out, v & 0xffffn, 2); }
  else if (v >= -(2n ** 31n)) { out.push(0xd2); pushUint(out, v & 0xffffffffn, 4); }
  else { out.push(0xd3); pushUint(out, v & 0xffffffffffffffffn, 8); }
}

function encodeLength(out, n, small, smallLimit, codes) {
  // codes: [8-bit, 16-bit, 32-bit] markers (null where the form does not exist)
  if (small !== null && n < smallLimit) out.push(small | n);
  else if (codes[0] !== null && n < 256) { out.push(codes[0]); pushUint(out, n, 1); }
  else if (n < 65536) { out.push(codes[1]); pushUint(out, n, 2); }
  else { out.push(codes[2]); pushUint(out, n, 4); }
}

function encodeValue(out, value, depth) {
  if (value === null) out.push(0xc0);
  else if (value === false) out.push(0xc2);
  else if (value === true) out.push(0xc3);
  else if (typeof value === "bigint") encodeInt(out, value);
  else if (typeof value === "number") {
    if (!Number.isSafeInteger(value)) throw new TypeError("floats are not allowed; use integer minor units");
    encodeInt(out, value);
  } else if (typeof value === "string") {
    const bytes = utf8.encode(value);
    encodeLength(out, bytes.length, 0xa0, 32, [0xd9, 0xda, 0xdb]);
    out.push(...bytes);
  } else if (value instanceof Uint8Array) {
    encodeLength(out, value.length, null, 0, [0xc4, 0xc5, 0xc6]);
    for (const b of value) out.push(b);
  } else if (depth >= MAX_DEPTH) {
    throw new RangeError(`value nests deeper than ${MAX_DEPTH} levels`);
  } else if (Array.isArray(value)) {
    encodeLength(out, value.length, 0x90, 16, [null, 0xdc, 0xdd]);
    for (const item of value) encodeValue(out, item, depth + 1);
  } else if (typeof value === "object" && Object.getPrototypeOf(value) === Object.prototype) {
    const keys = Object.keys(value).sort(codePointOrder);
    encodeLength(out, keys.length, 0x80, 16, [null, 0xde, 0xdf]);
    for (const key of keys) { encodeValue(out, key, depth + 1); encodeValue(out, value[key], depth + 1); }
  } else {
    throw new TypeError(`a ${typeof value} cannot be encoded`);
  }
}

/** core.encoding.encode: the one canonical byte string of `value`. */
export function encode(value) {
  const out = [];
  encodeValue(out, value, 0);
  return Uint8Array.from(out);
}

/** Decode MessagePack (arrays as arrays, bytes as Uint8Array, big integers as BigInt). */
export function decode(bytes) {
  let at = 0;
  const need = (n) => { if (at + n > bytes.length) throw new RangeError("truncated"); };
  const uint = (n) => {
    need(n);
    let v = 0n;
    for (let i = 0; i < n; i++) v = (v << 8n) | BigInt(bytes[at + i]);
    at += n;
    return v;
  };
  const small = (v) => (v >= BigInt(Number.MIN_SAFE_INTEGER) && v <= BigInt(Number.MAX_SAFE_INTEGER) ? Number(v) : v);
  const sint = (n) => { const v = uint(n); const top = 1n << BigInt(8 * n - 1); return small(v >= top ? v - 2n * top : v); };
  const raw = (n) => { need(n); const out = bytes.slice(at, at + n); at += n; return out; };
  const text = (n) => new TextDecoder("utf-8", { fatal: true }).decode(raw(n));
  const array = (n) => Array.from({ length: n }, () => item());
  const map = (n) => {
    const out = {};
    for (let i = 0; i < n; i++) { const k = item(); if (typeof k !== "string") throw new TypeError("map key"); out[k] = item(); }
    return out;
  };
  function item() {
    need(1);
    const b = bytes[at++];
    if (b < 0x80) return b;
    if (b >= 0xe0) return b - 256;
    if ((b & 0xf0) === 0x80) return map(b & 0x0f);
    if ((b & 0xf0) === 0x90) return array(b & 0x0f);
    if ((b & 0xe0) === 0xa0) return text(b & 0x1f);
    switch (b) {
      case 0xc0: return null;
      case 0xc2: return false;
      case 0xc3: return true;
      case 0xc4: return raw(Number(uint(1)));
      case 0xc5: return raw(Number(uint(2)));
      case 0xc6: return raw(Number(uint(4)));
      case 0xcc: return small(uint(1));
      case 0xcd: return small(uint(2));
      case 0xce: return small(uint(4));
      case 0xcf: return small(uint(8));
      case 0xd0: return sint(1);
      case 0xd1: return sint(2);
      case 0xd2: return sint(4);
      case 0xd3: return sint(8);
      case 0xd9: return text(Number(uint(1)));
      case 0xda: return text(Number(uint(2)));
      case 0xdb: return text(Number(uint(4)));
      case 0xdc: return array(Number(uint(2)));
      case 0xdd: return array(Number(uint(4)));
      case 0xde: return map(Number(uint(2)));
      case 0xdf: return map(Number(uint(4)));
      default: throw new TypeError(`unsupported MessagePack byte 0x${b.toString(16)}`);
    }
  }
  const value = item();
  if (at !== bytes.length) throw new RangeError("trailing bytes");
  return value;
}

// -- addresses (core/address.py): 20 bytes of a digest, shown as Bech32 civ1… ------------------

const CHARSET = "qpzry9x8gf2tvdw0s3jn54khce6mua7l";
const GENERATORS = [0x3b6a57b2, 0x26508e6d, 0x1ea119fa, 0x3d4233dd, 0x2a1462b3];
export const HRP = "civ";
export const ADDRESS_SIZE = 20;
const ADDRESS_TEXT_LENGTH = HRP.length + 1 + 32 + 6;

function polymod(values) {
  let chk = 1;
  for (const v of values) {
    const top = chk >>> 25;
    chk = ((chk & 0x1ffffff) << 5) ^ v;
    for (let i = 0; i < 5; i++) if ((top >>> i) & 1) chk ^= GENERATORS[i];
  }
  return chk >>> 0;
}

const hrpExpand = (hrp) => [...Array.from(hrp, (c) => c.charCodeAt(0) >> 5), 0,
  ...Array.from(hrp, (c) => c.charCodeAt(0) & 31)];

function convertBits(data, from, to, pad) {
  let acc = 0, bits = 0;
  const out = [], maxv = (1 << to) - 1;
  for (const value of data) {
    acc = (acc << from) | value;
    bits += from;
    while (bits >= to) { bits -= to; out.push((acc >> bits) & maxv); }
  }
  if (pad) { if (bits) out.push((acc << (to - bits)) & maxv); }
  else if (bits >= from || ((acc << (to - bits)) & maxv)) return null;
  return out;
}

export function bech32Encode(hrp, data) {
  const values = [...hrpExpand(hrp), ...data, 0, 0, 0, 0, 0, 0];
  const mod = polymod(values) ^ 1;
  const checksum = Array.from({ length: 6 }, (_, i) => (mod >>> (5 * (5 - i))) & 31);
  return hrp + "1" + [...data, ...checksum].map((d) => CHARSET[d]).join("");
}

export function addressText(raw) {
  if (raw.length !== ADDRESS_SIZE) throw new RangeError(`an address is ${ADDRESS_SIZE} bytes`);
  return bech32Encode(HRP, convertBits(raw, 8, 5, true));
}

/** core.address.address_of: the account of an Ed25519 public key. */
export async function addressOf(publicKey) {
  return (await digest(ADDRESS_TAG, publicKey)).slice(0, ADDRESS_SIZE);
}

/** core.address.from_text: the 20 bytes of a civ1… address; throws AddressError with a `code`. */
export function parseAddress(input) {
  const text = input.trim().toLowerCase();
  const fail = (code) => { const e = new Error(code); e.code = code; throw e; };
  if (text.length !== ADDRESS_TEXT_LENGTH) fail("address_length");
  if (!text.startsWith(HRP + "1")) fail("address_prefix");
  const data = Array.from(text.slice(HRP.length + 1), (c) => CHARSET.indexOf(c));
  if (data.includes(-1) || polymod([...hrpExpand(HRP), ...data]) !== 1) fail("address_checksum");
  const raw = convertBits(data.slice(0, -6), 5, 8, false);
  if (raw === null || raw.length !== ADDRESS_SIZE) fail("address_length");
  return Uint8Array.from(raw);
}

// -- small helpers for pages ----------------------------------------------------------------------

const KST_MS = 9 * 3600 * 1000;

/** Block time as Seoul wall-clock text, like the server's `seoul_time` filter. */
export function seoulTime(timeMs) {
  const d = new Date(timeMs + KST_MS);
  const p = (n) => String(n).padStart(2, "0");
  return `${d.getUTCFullYear()}-${p(d.getUTCMonth() + 1)}-${p(d.getUTCDate())} ` +
    `${p(d.getUTCHours())}:${p(d.getUTCMinutes())}:${p(d.getUTCSeconds())} KST`;
}

/** A moment as the value of a datetime-local input, in this device's time zone. */
export function localInputValue(ms) {
  const d = new Date(Number(ms));
  const p = (n) => String(n).padStart(2, "0");
  return `${d.getFullYear()}-${p(d.getMonth() + 1)}-${p(d.getDate())}T${p(d.getHours())}:${p(d.getMinutes())}`;
}

export function shortId(text, keep = 10) {
  return text.length <= 2 * keep + 1 ? text : `${text.slice(0, keep)}…${text.slice(-6)}`;
}

/** Integer minor units as text, like the server's `amount` filter. */
export function formatAmount(units, decimals = 0) {
  const v = BigInt(units);
  const sign = v < 0n ? "-" : "";
  const abs = v < 0n ? -v : v;
  const scale = 10n ** BigInt(decimals);
  const whole = (abs / scale).toString().replace(/\B(?=(\d{3})+(?!\d))/g, ",");
  const part = (abs % scale).toString().padStart(decimals, "0");
  return decimals ? `${sign}${whole}.${part}` : `${sign}${whole}`;
}

/** Build a DOM element: el("td", {class: "num"}, "text", child, …). */
export function el(tag, attrs = {}, ...children) {
  const node = document.createElement(tag);
  for (const [k, v] of Object.entries(attrs)) node.setAttribute(k, v);
  for (const child of children) node.append(child);
  return node;
}
