// Operators' consoles: the argument kinds their forms use beyond actions.js's own, and a
// page-level note of what a form inside a reloaded list just committed (a revoked role's row
// or an approved proposal's card goes away with its status when the list reloads, so the
// outcome is said once more, outside the list).
import { parseAddress, t } from "/static/civic.js";
import { KINDS, fail, say } from "/static/actions.js";

const DAY_MS = 86400000n;

function wholeDays(text) {
  if (!/^\d+$/.test(text.trim()) || BigInt(text.trim()) <= 0n) fail("invalid_days");
  return BigInt(text.trim());
}

/** A lifetime typed in days → milliseconds (a currency's validity). */
KINDS.days = (input) => wholeDays(input.value) * DAY_MS;

/** "Open for N days" → the proposal's expiry time, N days from now. */
KINDS.expires_in = (input) => BigInt(Date.now()) + wholeDays(input.value) * DAY_MS;

/** Addresses separated by commas, spaces or new lines (an organisation's admins). */
KINDS.addresses = (input) => {
  const items = input.value.split(/[\s,]+/).filter(Boolean);
  if (!items.length) fail("invalid_addresses");
  return items.map(parseAddress);
};

const note = document.getElementById("console-status");
document.addEventListener("committed", (event) => {
  if (note && event.target.closest("[data-refresh]")) say(note, "committed", t("status.committed", { height: event.detail.height }), event.detail.tx_id);
});
