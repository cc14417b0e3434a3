// The send page: a token transfer signed in this browser, followed until it is committed.
import { el, parseAddress, t } from "/static/civic.js";
import { call, explain, load, settle, supported } from "/static/wallet.js";

const $ = (id) => document.getElementById(id);
const status = $("tx-status");

function say(state, text, link) {
  status.dataset.state = state;
  status.className = `tx-status ${state}`;
  status.replaceChildren(el("p", {}, text));
  if (link) status.append(el("p", {}, el("a", { id: "tx-link", href: `/tx/${link}` }, t("send.view_tx"))));
}

/** "12.5" with 2 decimals → 1250n; throws with code invalid_amount. */
export function parseAmount(text, decimals) {
  const match = /^(\d+)(?:\.(\d+))?$/.exec(text.trim().replaceAll(",", ""));
  if (!match || (match[2] || "").length > decimals) throw Object.assign(new Error(), { code: "invalid_amount" });
  const units = BigInt(match[1] + (match[2] || "").padEnd(decimals, "0"));
  if (units <= 0n) throw Object.assign(new Error(), { code: "invalid_amount" });
  return units;
}

async function submit(wallet, event) {
  event.preventDefault();
  const button = $("send-button");
  const option = $("currency").selectedOptions[0];
  let to, amount;
  try {
    to = parseAddress($("recipient").value);
    amount = parseAmount($("amount").value, Number(option.dataset.decimals));
  } catch (error) {
    say("error", explain(error.code));
    return;
  }
  const args = { currency: option.value, to, amount };
  if ($("memo").value) args.memo = $("memo").value;
  button.disabled = true;
  try {
    let result = await call(wallet, "token", "transfer", args, (step, id) => say(step, t(`status.${step}`), id));
    if (result.state === "pending") {
      say("pending", t("status.pending"), result.tx_id);
      result = await settle(result.tx_id);
      if (result === null) { say("error", explain("timeout")); return; }
    }
    if (result.receipt.status === "ok") {
      say("committed", t("status.committed", { height: result.height }), result.tx_id);
    } else {
      say("failed", `${t("status.failed")}: ${explain(result.receipt.status, result.receipt.message)}`, result.tx_id);
    }
  } catch (error) {
    say("error", explain(error.code, error.message));
  } finally {
    button.disabled = false;
  }
}

async function start() {
  if (!(await supported())) { $("wallet-unsupported").hidden = false; return; }
  const wallet = await load();
  if (!wallet) { $("send-no-wallet").hidden = false; return; }
  $("wallet-address").textContent = wallet.address;
  $("send-form").hidden = false;
  $("send-form").addEventListener("submit", (event) => submit(wallet, event));
}

start();
