// The send page: a token transfer signed in this browser, followed until it is committed.
import { parseAddress } from "/static/civic.js";
import { parseAmount, perform, say } from "/static/actions.js";
import { explain, load, supported } from "/static/wallet.js";

const $ = (id) => document.getElementById(id);
const status = $("tx-status");

async function submit(wallet, event) {
  event.preventDefault();
  const button = $("send-button");
  const option = $("currency").selectedOptions[0];
  let to, amount;
  try {
    to = parseAddress($("recipient").value);
    amount = parseAmount($("amount").value, Number(option.dataset.decimals));
  } catch (error) {
    say(status, "error", explain(error.code));
    return;
  }
  const args = { currency: option.value, to, amount };
  if ($("memo").value) args.memo = $("memo").value;
  button.disabled = true;
  try {
    await perform(wallet, "token", "transfer", args, status);
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
