// Action forms: any contract call a page offers, signed by the browser wallet and followed live.
//
// A page declares a call as a form, and this script does the rest:
//
//   <form class="form" data-contract="hazards" data-method="report">
//     <input type="hidden" name="service" value="roads">
//     <label for="cell">…</label><input id="cell" name="cell" data-kind="text">
//     <label for="photo">…</label><input id="photo" name="photo" type="file" data-kind="blob">
//     <button type="submit">…</button>
//     <div class="tx-status" role="status" aria-live="polite"></div>
//   </form>
//
// Each named field becomes an argument, converted by its data-kind (see KINDS; `text` when
// absent). A dotted name ("values.pm10") builds a map. An empty field marked data-optional is
// left out. After the call commits, every element marked data-refresh is reloaded from the
// server, so tables show the new state, and only then does the status say "committed" (in the
// form as it is after the refresh); the form also fires a "committed" event.
//
// Pages about an account (<main data-account-page>) are addressed by ?account=civ1…; when the
// address is missing this script adds the browser wallet's, or shows #no-wallet.
import { el, parseAddress, t } from "/static/civic.js";
import { api, call, explain, load, settle, supported } from "/static/wallet.js";

/** Throw an Error carrying a machine-readable `code` (shown through explain()). */
export const fail = (code) => { throw Object.assign(new Error(code), { code }); };

/** "12.5" with 2 decimals → 1250n; throws with code invalid_amount. */
export function parseAmount(text, decimals = 0) {
  const match = /^(\d+)(?:\.(\d+))?$/.exec(text.trim().replaceAll(",", ""));
  if (!match || (match[2] || "").length > decimals) fail("invalid_amount");
  const units = BigInt(match[1] + (match[2] || "").padEnd(decimals, "0"));
  if (units <= 0n) fail("invalid_amount");
  return units;
}

function parseInteger(text) {
  if (!/^-?\d+$/.test(text.trim())) fail("invalid_number");
  return BigInt(text.trim());
}

/** Upload a photo to the gateway's blob store; its SHA-256 is what goes on the chain. */
async function upload(file) {
  let response;
  try {
    response = await fetch("/v1/blobs", { method: "POST", headers: { "content-type": file.type }, body: file });
  } catch {
    fail("network");
  }
  const data = await response.json().catch(() => ({}));
  if (!response.ok) throw Object.assign(new Error(data.error?.message || ""), { code: data.error?.code || "upload_failed" });
  return Uint8Array.from(data.sha256.match(/../g), (h) => parseInt(h, 16));
}

/** How a field's text becomes an argument. */
export const KINDS = {
  text: (input) => input.value.trim(),
  int: (input) => parseInteger(input.value),
  amount: (input) => parseAmount(input.value, Number(input.dataset.decimals || 0)),
  address: (input) => parseAddress(input.value),
  bool: (input) => (input.type === "checkbox" ? input.checked : input.value === "true"),
  list: (input) => input.value.split(",").map((s) => s.trim()).filter(Boolean),
  time: (input) => { const ms = new Date(input.value).getTime(); if (!Number.isFinite(ms)) fail("invalid_time"); return BigInt(ms); },
  hex: (input) => { const v = input.value.trim(); if (!/^([0-9a-f]{2})+$/i.test(v)) fail("invalid_hex"); return Uint8Array.from(v.match(/../g), (h) => parseInt(h, 16)); },
  blob: async (input) => { if (!input.files?.length) fail("missing_file"); return upload(input.files[0]); },
};

/** The arguments a form describes; throws an Error with a `code` and the offending `field`. */
export async function argumentsOf(form) {
  const args = {};
  for (const input of form.querySelectorAll("[name]")) {
    if (input.disabled || (input.type === "radio" && !input.checked)) continue;
    const kind = input.dataset.kind || "text";
    const empty = input.type === "file" ? !input.files?.length : input.type !== "checkbox" && !input.value.trim();
    if (empty && "optional" in input.dataset) continue;
    let value;
    try {
      if (!(kind in KINDS)) fail("unknown_kind");
      value = await KINDS[kind](input);
    } catch (error) {
      throw Object.assign(error, { field: input });
    }
    const path = input.name.split(".");
    let target = args;
    for (const part of path.slice(0, -1)) target = target[part] ??= {};
    target[path.at(-1)] = value;
  }
  return args;
}

/** Show a transaction's progress in `box` (a .tx-status element). */
export function say(box, state, text, txId) {
  box.dataset.state = state;
  box.className = `tx-status ${state}`;
  box.replaceChildren(el("p", {}, text));
  if (txId) box.append(el("p", {}, el("a", { class: "tx-link", href: `/tx/${txId}` }, t("send.view_tx"))));
}

/** Follow a submitted call from the gateway's answer to its outcome, telling `box` (a
 * .tx-status element, or a function giving the current one: a refresh may replace it); the
 * committed view, or null. `settled(view)` runs once it has committed, before "committed" is
 * shown, so that whoever waits for that word sees the page already refreshed. */
export async function follow(answer, box, settled = async () => {}) {
  const tell = (...what) => say(typeof box === "function" ? box() : box, ...what);
  let result = answer;
  if (result.state === "pending") {
    tell("pending", t("status.pending"), result.tx_id);
    result = await settle(result.tx_id);
    if (result === null) { tell("error", explain("timeout")); return null; }
  }
  if (result.receipt.status !== "ok") {
    tell("failed", `${t("status.failed")}: ${explain(result.receipt.status, result.receipt.message)}`, result.tx_id);
    return null;
  }
  await settled(result);
  tell("committed", t("status.committed", { height: result.height }), result.tx_id);
  return result;
}

/** Sign, submit and follow one call (see follow); the committed view, or null. */
export async function perform(wallet, contract, method, args, box, settled = async () => {}) {
  const tell = (...what) => say(typeof box === "function" ? box() : box, ...what);
  try {
    const answer = await call(wallet, contract, method, args, (step, id) => tell(step, t(`status.${step}`), id));
    return await follow(answer, box, settled);
  } catch (error) {
    tell("error", explain(error.code, error.message));
    return null;
  }
}

/** Reload the page's data-refresh regions from the server (after a call changed the state). */
export async function refresh() {
  const regions = document.querySelectorAll("[data-refresh][id]");
  if (!regions.length) return;
  const response = await fetch(location.href, { headers: { accept: "text/html" } });
  if (!response.ok) return;
  const fresh = new DOMParser().parseFromString(await response.text(), "text/html");
  for (const region of regions) {
    const replacement = fresh.getElementById(region.id);
    if (replacement) region.replaceWith(document.adoptNode(replacement));
  }
  bind(document);
}

/** What identifies a form across a refresh: its id, else its call and fixed arguments. */
function formKey(form) {
  if (form.id) return `#${form.id}`;
  const fixed = [...form.querySelectorAll("input[type=hidden][name]")].map((i) => `${i.name}=${i.value}`);
  return `${form.dataset.contract}.${form.dataset.method}?${fixed.join("&")}`;
}

function statusBox(form) {
  return form.querySelector(".tx-status") ||
    form.appendChild(el("div", { class: "tx-status", role: "status", "aria-live": "polite" }));
}

async function submit(form, event) {
  event.preventDefault();
  const key = formKey(form);
  const region = form.closest("[data-refresh][id]")?.id;
  const fresh = () => [...document.querySelectorAll("form[data-contract][data-method]")].find((f) => formKey(f) === key);
  const current = () => statusBox(fresh() || form);
  const box = statusBox(form);
  const wallet = await load();
  if (!wallet) { say(box, "error", t("action.no_wallet")); return; }
  const buttons = form.querySelectorAll("button");
  buttons.forEach((b) => { b.disabled = true; });
  try {
    let args;
    try {
      args = await argumentsOf(form);
    } catch (error) {
      say(box, "error", explain(error.code, error.message));
      error.field?.focus();
      return;
    }
    // Asked only once the fields are right: nobody confirms what would be refused anyway.
    if (form.dataset.confirm && !window.confirm(form.dataset.confirm)) return;
    const result = await perform(wallet, form.dataset.contract, form.dataset.method, args, current, async () => {
      if (!("keep" in form.dataset)) form.reset();
      await refresh();
    });
    // Told on the form as it is now; if the refresh removed it (a row that is done), on its region.
    const told = fresh() || (form.isConnected ? form : document.getElementById(region));
    if (result && told) told.dispatchEvent(new CustomEvent("committed", { detail: result, bubbles: true }));
  } finally {
    buttons.forEach((b) => { b.disabled = false; });
  }
}

/** Make every action form under `root` live (once). */
export function bind(root) {
  for (const form of root.querySelectorAll("form[data-contract][data-method]")) {
    if (form.dataset.bound) continue;
    form.dataset.bound = "1";
    form.addEventListener("submit", (event) => submit(form, event));
  }
}

/** On account pages, put the browser wallet's address in the URL (or say there is none). */
async function addressPage() {
  const main = document.querySelector("main[data-account-page]");
  if (!main || main.dataset.account) return;
  const wallet = (await supported()) ? await load() : null;
  if (wallet) {
    const url = new URL(location.href);
    url.searchParams.set("account", wallet.address);
    location.replace(url);
  } else {
    const notice = document.getElementById("no-wallet");
    if (notice) notice.hidden = false;
  }
}

export { api };

bind(document);
addressPage();
