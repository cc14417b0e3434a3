// Co-signed hand-offs: a volunteering check-in or check-out needs both the volunteer's and a
// manager's signature on one transaction (core/tx.py: the body names the signer and the
// co-signer's public keys; the envelope is [body, [signer's signature, co-signer's]], each over
// the same transaction id).
//
// One party starts: a <form data-cosign="check_in" data-as="manager" data-other-key="hex"> with
// the call's arguments as fields. This script builds the body, signs it with this browser's
// wallet and shows a link /volunteer/cosign#<partly-signed envelope>. The fragment never
// reaches a server, so the half-signed transaction travels only between the two people's
// devices. The other party opens the link: their browser checks the link (the first signature,
// the chain, the expiry, and that this wallet is the co-signer named), says in plain words what
// is being signed, and on their word adds the second signature and submits. The starting page
// follows the transaction and refreshes itself once it is committed.
import {
  SIGNATURE_TAG, TX_ID_TAG, addressOf, addressText, concat, decode, digest, el, encode, equalBytes,
  fromBase64, fromHex, seoulTime, t, toBase64, toHex,
} from "/static/civic.js";
import { api, explain, load, settle, sign, transactionBody } from "/static/wallet.js";
import { argumentsOf, follow, refresh, say } from "/static/actions.js";

export const HANDOFF_TTL_MS = 30 * 60 * 1000;
/** Calls this page knows how to describe in plain words. */
export const METHODS = ["check_in", "check_out"];
const CONTRACT = "volunteering";
const NONCE_BYTES = 16;

const fail = (code, fields = {}) => { throw Object.assign(new Error(code), { code, fields }); };

/** Bytes as URL-safe Base64 without padding, and back. */
export const toLink = (bytes) => toBase64(bytes).replaceAll("+", "-").replaceAll("/", "_").replace(/=+$/, "");
export const fromLink = (text) => fromBase64(text.replaceAll("-", "+").replaceAll("_", "/").padEnd(Math.ceil(text.length / 4) * 4, "="));

/** A partly-signed envelope read back: its body's fields, the signatures so far and the id. */
export async function readHandoff(envelope) {
  const outer = decode(envelope);
  if (!Array.isArray(outer) || outer.length !== 2 || !(outer[0] instanceof Uint8Array) || !Array.isArray(outer[1])) fail("damaged");
  const [body, signatures] = outer;
  const fields = decode(body);
  if (!Array.isArray(fields) || fields.length !== 9) fail("damaged");
  const [version, chainId, contract, method, args, signer, cosigners, nonce, expires] = fields;
  if (!(signer instanceof Uint8Array) || !Array.isArray(cosigners) || signatures.length !== 1 ||
      !(signatures[0] instanceof Uint8Array) || typeof args !== "object" || args === null) fail("damaged");
  const id = await digest(TX_ID_TAG, body);
  return { body, signatures, id, tx: { version, chainId, contract, method, args, signer, cosigners, nonce, expires: Number(expires) } };
}

/** Whether `publicKey` made `signature` over transaction `id` (Ed25519, as core/tx.py). */
export async function signedBy(publicKey, signature, id) {
  const key = await crypto.subtle.importKey("raw", publicKey, { name: "Ed25519" }, false, ["verify"]);
  return crypto.subtle.verify({ name: "Ed25519" }, key, signature, concat(SIGNATURE_TAG, id));
}

/** Add this wallet's signature to a partly-signed envelope; the complete envelope and its id. */
export async function cosign(handoff, wallet) {
  const position = handoff.tx.cosigners.findIndex((k) => equalBytes(k, wallet.publicKey));
  if (position !== handoff.signatures.length - 1) fail("not_cosigner");
  const signature = new Uint8Array(await crypto.subtle.sign({ name: "Ed25519" }, wallet.keys.privateKey,
    concat(SIGNATURE_TAG, handoff.id)));
  return { id: toHex(handoff.id), envelope: encode([handoff.body, [...handoff.signatures, signature]]) };
}

/** Sign `args` as the starting party, naming `otherKey` as co-signer: {id, link}. */
export async function startHandoff(wallet, method, args, otherKey) {
  const chainId = (await api("GET", "/v1/chain")).chain_id;
  const body = transactionBody({
    chainId, contract: CONTRACT, method, args, signer: wallet.publicKey,
    nonce: crypto.getRandomValues(new Uint8Array(NONCE_BYTES)), expires: Date.now() + HANDOFF_TTL_MS,
    cosigners: [otherKey],
  });
  const signed = await sign(body, wallet.keys.privateKey);
  return { id: signed.id, link: `${location.origin}/volunteer/cosign#${toLink(signed.envelope)}` };
}

// -- the starting side ------------------------------------------------------------------------------

async function start(form) {
  const box = form.querySelector(".tx-status");
  const holder = form.querySelector(".handoff-link");
  const wallet = await load();
  if (!wallet) { say(box, "error", t("action.no_wallet")); return; }
  let args;
  try {
    args = await argumentsOf(form);
  } catch (error) {
    say(box, "error", explain(error.code, error.message));
    return;
  }
  const party = form.dataset.as;
  if (!equalBytes(await addressOf(wallet.publicKey), args[party])) {
    say(box, "error", t(`cosign.start_wrong_wallet.${party}`, { address: addressText(args[party]) }));
    return;
  }
  const button = form.querySelector("button[type=submit]");
  button.disabled = true;
  say(box, "signing", t("status.signing"));
  let handoff;
  try {
    handoff = await startHandoff(wallet, form.dataset.cosign, args, fromHex(form.dataset.otherKey));
  } catch (error) {
    button.disabled = false;
    say(box, "error", explain(error.code, error.message));
    return;
  }
  const url = holder.querySelector(".handoff-url");
  url.value = handoff.link;
  holder.querySelector(".handoff-open").href = handoff.link;
  holder.hidden = false;
  say(box, "waiting", t("cosign.waiting", { time: seoulTime(Date.now() + HANDOFF_TTL_MS) }));
  const done = await settle(handoff.id, HANDOFF_TTL_MS);
  holder.hidden = true;
  button.disabled = false;
  if (done === null) { say(box, "error", t("cosign.start_expired")); return; }
  if (await follow(done, box)) await refresh();
}

document.addEventListener("submit", (event) => {
  const form = event.target.closest?.("form[data-cosign]");
  if (!form) return;
  event.preventDefault();
  start(form);
});

document.addEventListener("click", async (event) => {
  const copy = event.target.closest?.(".handoff-copy");
  if (!copy) return;
  const url = copy.closest(".handoff-link").querySelector(".handoff-url");
  url.select();
  try {
    await navigator.clipboard.writeText(url.value);
    copy.textContent = t("volunteer.link_copied");
  } catch {
    copy.textContent = t("volunteer.copy_failed");
  }
});

// -- the co-signing side (/volunteer/cosign#…) ------------------------------------------------------

function refuse(code, fields = {}) {
  document.getElementById("cosign-checking").hidden = true;
  const box = document.getElementById("cosign-refused");
  box.textContent = t(`cosign.refused.${code}`, fields);
  box.dataset.code = code;
  box.hidden = false;
}

async function checkHandoff() {
  const text = location.hash.slice(1);
  if (!text) fail("no_link");
  let handoff;
  try {
    handoff = await readHandoff(fromLink(text));
  } catch {
    fail("damaged");
  }
  const { tx } = handoff;
  if (tx.contract !== CONTRACT || !METHODS.includes(tx.method) || tx.cosigners.length !== 1) fail("unsupported");
  if (tx.chainId !== (await api("GET", "/v1/chain")).chain_id) fail("wrong_chain");
  let genuine = false;
  try { genuine = await signedBy(tx.signer, handoff.signatures[0], handoff.id); } catch { genuine = false; }
  if (!genuine) fail("damaged");
  const known = await api("GET", `/v1/transactions/${toHex(handoff.id)}`).catch(() => null);
  if (known?.state === "committed") fail("done");
  if (tx.expires < Date.now()) fail("expired", { time: seoulTime(tx.expires) });
  const wallet = await load();
  if (!wallet) fail("no_wallet");
  if (equalBytes(wallet.publicKey, tx.signer)) fail("own_link");
  const expected = addressText(await addressOf(tx.cosigners[0]));
  if (!equalBytes(wallet.publicKey, tx.cosigners[0])) fail("wrong_wallet", { expected, mine: wallet.address });
  const me = await addressOf(wallet.publicKey);
  const starter = await addressOf(tx.signer);
  const { volunteer, manager } = tx.args;
  const parties = [volunteer, manager];
  if (!parties.every((p) => p instanceof Uint8Array) || !parties.some((p) => equalBytes(p, me)) ||
      !parties.some((p) => equalBytes(p, starter))) fail("not_party");
  return { handoff, wallet, role: equalBytes(volunteer, me) ? "volunteer" : "manager" };
}

async function describe({ handoff, role }) {
  const { tx } = handoff;
  const number = Number(tx.args.request);
  const request = (await api("POST", `/v1/contracts/${CONTRACT}/queries/request`, { args: { request: number } })).result;
  const org = await api("GET", `/v1/orgs/${request.org}`).catch(() => ({ name: request.org }));
  const volunteer = addressText(tx.args.volunteer);
  const manager = addressText(tx.args.manager);
  document.getElementById("cosign-what").textContent = t(`cosign.what.${tx.method}`);
  const facts = document.getElementById("cosign-facts");
  const row = (term, ...value) => facts.append(el("dt", {}, term), el("dd", {}, ...value));
  row(t("cosign.request"), el("a", { href: `/volunteer/requests/${number}` }, `#${number} ${request.task}`));
  row(t("volunteer.org"), org.name);
  row(t("volunteer.place"), el("span", { class: "mono" }, request.place));
  row(t("volunteer.when"), `${seoulTime(request.start_ms)} – ${seoulTime(request.end_ms)}`);
  row(t("volunteer.volunteer"), el("span", { class: "mono break" }, volunteer), role === "volunteer" ? ` (${t("cosign.you")})` : "");
  row(t("cosign.manager"), el("span", { class: "mono break" }, manager), role === "manager" ? ` (${t("cosign.you")})` : "");
  row(t("cosign.you_sign_as"), t(`cosign.role.${role}`));
  document.getElementById("cosign-expiry").textContent = t("cosign.valid_until", { time: seoulTime(tx.expires) });
}

async function submit(state) {
  const button = document.getElementById("cosign-button");
  const box = document.getElementById("cosign-status");
  button.disabled = true;
  try {
    if (state.handoff.tx.expires < Date.now()) { say(box, "error", t("cosign.refused.expired", { time: seoulTime(state.handoff.tx.expires) })); return; }
    say(box, "signing", t("status.signing"));
    const signed = await cosign(state.handoff, state.wallet);
    say(box, "submitting", t("status.submitting"), signed.id);
    const result = await api("POST", "/v1/transactions?wait=true&timeout_ms=10000", { envelope: toBase64(signed.envelope) });
    if (await follow(result, box)) {
      button.hidden = true;
      const next = document.querySelector("#cosign-next a");
      const number = Number(state.handoff.tx.args.request);
      next.href = state.role === "volunteer" ? `/volunteer/me?account=${state.wallet.address}`
        : `/console/volunteer/requests/${number}?account=${state.wallet.address}`;
      next.parentElement.hidden = false;
      return;
    }
  } catch (error) {
    say(box, "error", explain(error.code, error.message));
  }
  button.disabled = false;
}

async function openHandoff() {
  let state;
  try {
    state = await checkHandoff();
    await describe(state);
  } catch (error) {
    if (error.fields) refuse(error.code, error.fields);
    else refuse("failed", { reason: explain(error.code, error.message) });
    return;
  }
  document.getElementById("cosign-checking").hidden = true;
  document.getElementById("cosign-details").hidden = false;
  document.getElementById("cosign-button").addEventListener("click", () => submit(state));
}

if (document.getElementById("cosign-details")) {
  openHandoff();
  window.addEventListener("hashchange", () => location.reload());
}
