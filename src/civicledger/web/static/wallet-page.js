// The wallet page: create the browser's key once, then show its address and balances.
import { el, formatAmount, t } from "/static/civic.js";
import { api, create, explain, load, supported } from "/static/wallet.js";

const $ = (id) => document.getElementById(id);

async function showBalances(wallet) {
  const body = $("wallet-balances");
  try {
    const view = await api("GET", `/v1/accounts/${wallet.address}/balances`);
    body.replaceChildren(...view.balances.map((b) => el("tr", {},
      el("td", {}, `${b.currency} `, el("small", {}, b.name)),
      el("td", { class: "num", "data-currency": b.currency }, formatAmount(b.spendable, b.decimals)))));
  } catch (error) {
    $("wallet-message").textContent = explain(error.code, error.message);
  }
}

function show(wallet) {
  $("wallet-none").hidden = true;
  $("wallet-ready").hidden = false;
  $("wallet-address").textContent = wallet.address;
  $("wallet-history").href = `/address/${wallet.address}`;
  showBalances(wallet);
  $("refresh-balances").onclick = () => showBalances(wallet);
  $("copy-address").onclick = async () => {
    try {
      await navigator.clipboard.writeText(wallet.address);
      $("wallet-message").textContent = t("wallet.copied");
    } catch {
      $("wallet-message").textContent = t("wallet.copy_failed");
    }
  };
}

async function start() {
  if (!(await supported())) { $("wallet-unsupported").hidden = false; return; }
  const wallet = await load();
  if (wallet) { show(wallet); return; }
  $("wallet-none").hidden = false;
  $("create-wallet").onclick = async () => {
    $("create-wallet").disabled = true;
    try {
      const made = await create();
      $("wallet-message").textContent = t("wallet.created");
      show(made);
    } catch (error) {
      $("wallet-message").textContent = explain(error.code || "unsupported", error.message);
      $("create-wallet").disabled = false;
    }
  };
}

start();
