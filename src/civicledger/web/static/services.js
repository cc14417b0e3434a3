// Service pages: local times in time fields, a booking's price as its hours change, a spot's
// availability windows as one argument, and what a committed call answered, in words.
//
//   <input type="datetime-local" data-default-ms="now|<ms>">   filled with that moment, local time
//   <form data-price-per-hour="100" data-decimals="0" data-currency="CIV"> … <output class="price-total">
//   <fieldset data-windows data-max="16"><div data-window>(from, until)</div><button data-add-window>
//   <input type="hidden" name="windows" data-kind="windows">   → [[start_ms, end_ms], …]
//   <input name="driver_refund_bps" data-kind="percent" data-amount="300">   "50" → 5000n basis
//     points; <button type="button" data-refund-preset="100"> fills it; <output class="refund-split">
//     shows what each side gets; once a dispute's card leaves the list, #dispute-result says the
//     decision
import { el, formatAmount, localInputValue, t } from "/static/civic.js";
import { KINDS, fail, say } from "/static/actions.js";

/** Availability windows from the form's [data-window] rows: whole-hour ms pairs, in order. */
KINDS.windows = (input) => {
  const windows = [];
  for (const row of input.form.querySelectorAll("[data-window]")) {
    const [from, until] = row.querySelectorAll('input[type="datetime-local"]');
    if (!from.value && !until.value) continue;
    const start = new Date(from.value).getTime();
    const end = new Date(until.value).getTime();
    if (!Number.isFinite(start) || !Number.isFinite(end)) fail("invalid_time");
    if (end <= start) fail("bad_window");
    windows.push([BigInt(start), BigInt(end)]);
  }
  if (!windows.length) fail("missing_window");
  return windows;
};

/** A percentage with up to two decimals ("50", "33.33") as basis points (5000n, 3333n). */
KINDS.percent = (input) => {
  const match = /^(\d{1,3})(?:\.(\d{1,2}))?$/.exec(input.value.trim().replace(/%$/, "").trim());
  if (!match) fail("invalid_percent");
  const bps = BigInt(match[1]) * 100n + BigInt((match[2] || "").padEnd(2, "0"));
  if (bps > 10000n) fail("invalid_percent");
  return bps;
};

/** What the driver and the owner get from a dispute's resolution, as the contract splits it. */
function showSplit(input) {
  const output = input.form?.querySelector(".refund-split");
  if (!output) return;
  let bps;
  try { bps = KINDS.percent(input); } catch { output.textContent = ""; return; }
  const amount = BigInt(input.dataset.amount);
  const owner = (amount * (10000n - bps)) / 10000n; // the owner's part rounds down, as in the contract
  const decimals = Number(input.dataset.decimals || 0);
  const currency = input.dataset.currency || "";
  output.textContent = t("svc_console.parking.split", {
    refund: `${formatAmount(amount - owner, decimals)} ${currency}`.trim(),
    owner: `${formatAmount(owner, decimals)} ${currency}`.trim(),
  });
}

function fillTimes(root) {
  for (const input of root.querySelectorAll("input[data-default-ms]")) {
    if (input.value) continue;
    const given = input.dataset.defaultMs;
    const value = localInputValue(given === "now" ? Date.now() : Number(given));
    input.defaultValue = value; // so that a form reset after a commit keeps a sensible time
    input.value = value;
  }
}

function showPrice(form) {
  const output = form.querySelector(".price-total");
  const hours = form.querySelector('[name="hours"]');
  if (!output || !hours) return;
  const n = /^\d+$/.test(hours.value.trim()) ? BigInt(hours.value.trim()) : 0n;
  const units = BigInt(form.dataset.pricePerHour) * n;
  output.textContent = `${formatAmount(units, Number(form.dataset.decimals || 0))} ${form.dataset.currency || ""}`.trim();
}

function addWindow(fieldset) {
  const rows = fieldset.querySelectorAll("[data-window]");
  if (rows.length >= Number(fieldset.dataset.max || 16)) return;
  const n = rows.length;
  const row = rows[n - 1].cloneNode(true);
  const [fromLabel, untilLabel] = row.querySelectorAll("label");
  const [from, until] = row.querySelectorAll("input");
  from.id = `window-${n}-from`; fromLabel.htmlFor = from.id; fromLabel.textContent = t("parking.window_from", { n: n + 1 });
  until.id = `window-${n}-until`; untilLabel.htmlFor = until.id; untilLabel.textContent = t("parking.window_until", { n: n + 1 });
  for (const input of [from, until]) { input.value = ""; input.defaultValue = ""; input.required = false; }
  rows[n - 1].after(row);
  from.focus();
  if (n + 1 >= Number(fieldset.dataset.max || 16)) fieldset.querySelector("[data-add-window]").hidden = true;
}

/** What a committed call answered, in words (the receipt's result). */
const RESULTS = {
  "hazards.report": (r) => t(r.merged ? "hazards.result.merged" : "hazards.result.new", { hazard: r.hazard, reporters: r.reporters }),
  "airquality.submit": (r, f) => t(`air.result.${r.status}`, { reading: r.reading, reward: formatAmount(r.reward, f) }),
  "airquality.claim": (r, f) => t("air.result.claimed", { amount: formatAmount(r, f) }),
  "parking.book": (r, f) => t("parking.result.booked", { booking: r.booking, amount: formatAmount(r.amount, f) }),
  "parking.cancel": (r, f) => t("parking.result.refunded", { amount: formatAmount(r, f) }),
  "parking.no_show": (r, f) => t("parking.result.refunded", { amount: formatAmount(r, f) }),
  "parking.list_spot": (r) => t("parking.result.listed", { spot: r }),
  "parking.resolve_dispute": (r, f) => t("svc_console.parking.resolved", {
    refunded: formatAmount(r.refunded, f), paid: formatAmount(r.paid_owner, f) }),
};

/** A resolved dispute leaves the console's list with its form: say the decision beside the list. */
function showDecision(result) {
  const box = document.getElementById("dispute-result");
  const r = result?.receipt?.result;
  if (!box || !r) return;
  const decimals = Number(box.dataset.decimals || 0);
  say(box, "committed", RESULTS["parking.resolve_dispute"](r, decimals), result.tx_id);
}

document.addEventListener("committed", (event) => {
  if (event.target.id === "dispute-list") { showDecision(event.detail); return; }
  const form = event.target;
  const words = RESULTS[`${form.dataset.contract}.${form.dataset.method}`];
  const result = event.detail?.receipt?.result;
  const box = form.querySelector(".tx-status");
  if (!words || result === undefined || result === null || !box) return;
  const decimals = Number(form.dataset.decimals ?? document.getElementById("balance")?.dataset.decimals ?? 0);
  box.append(el("p", { class: "result" }, words(result, decimals)));
});

document.addEventListener("input", (event) => {
  const form = event.target.closest?.("form[data-price-per-hour]");
  if (form) showPrice(form);
  if (event.target.matches?.('input[data-kind="percent"]')) showSplit(event.target);
});

// A form reset after a commit puts the hours back: show the price for them (after the reset).
document.addEventListener("reset", (event) => {
  const form = event.target;
  if (form.matches?.("form[data-price-per-hour]")) setTimeout(() => showPrice(form));
});

document.addEventListener("click", (event) => {
  const button = event.target.closest?.("[data-add-window]");
  if (button) addWindow(button.closest("[data-windows]"));
  const preset = event.target.closest?.("[data-refund-preset]");
  if (preset) {
    const input = document.getElementById(preset.getAttribute("aria-controls"));
    input.value = preset.dataset.refundPreset;
    showSplit(input);
    input.focus();
  }
});

function prepare(root) {
  fillTimes(root);
  root.querySelectorAll("form[data-price-per-hour]").forEach(showPrice);
}

prepare(document);
// Regions reloaded after a commit (data-refresh) bring new fields: prepare them too.
new MutationObserver((changes) => {
  for (const change of changes) for (const node of change.addedNodes) if (node.querySelectorAll) prepare(node);
}).observe(document.querySelector("main") || document.body, { childList: true, subtree: true });
