// A transaction page opened before its block: wait for the commit, then show the full page.
import { t } from "/static/civic.js";
import { settle } from "/static/wallet.js";

const state = document.getElementById("pending-state");

async function follow() {
  const view = await settle(state.dataset.txId, 10 * 60 * 1000);
  if (view) location.reload();
  else state.textContent = t("tx.still_pending");
}

follow();
