// The wallet page: make the browser's key together with its passphrase-sealed backup file, or
// import a key file; then show the address, balances and how the wallet is backed up.
import { el, formatAmount, t } from "/static/civic.js";
import { MAX_FILE_SIZE } from "/static/keyfile.js";
import {
  MIN_PASSPHRASE, api, createWithBackup, explain, importKeyFile, load, newKeyFile, supported,
} from "/static/wallet.js";

const $ = (id) => document.getElementById(id);

/** Plain words for a failure of making or opening a key file. */
function problem(error) {
  const key = `keyfile.error.${error.code}`;
  const text = t(key, { min: MIN_PASSPHRASE });
  return text === key ? explain(error.code || "unsupported", error.message) : text;
}

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
  $("wallet-ready").hidden = false;
  $("wallet-address").textContent = wallet.address;
  $("wallet-history").href = `/address/${wallet.address}`;
  $("backup-created").hidden = wallet.backup !== "created";
  $("backup-imported").hidden = wallet.backup !== "imported";
  $("no-backup").hidden = wallet.backup !== null;
  $("import-replaces").hidden = false;
  // A wallet without a backup may make a new key file here to move its funds to.
  showCreate(wallet.backup === null ? "file" : null);
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

// -- making a key with its backup ----------------------------------------------------------------

let createMode = null; // "new": make this browser's wallet; "file": a key file only; null: hidden

function showCreate(mode) {
  createMode = mode;
  $("create-section").hidden = mode === null;
  if (mode === null) return;
  $("wallet-none").hidden = mode !== "new";
  $("create-heading").textContent = $("create-heading").dataset[mode];
  $("create-wallet").textContent = $("create-wallet").dataset[mode];
}

let backupUrl = null;

function offerBackup(made) {
  if (backupUrl) URL.revokeObjectURL(backupUrl);
  backupUrl = URL.createObjectURL(new Blob([made.file], { type: "application/json" }));
  const link = $("backup-download");
  link.href = backupUrl;
  link.download = made.fileName;
  link.textContent = t("wallet.backup_download", { file: made.fileName });
  $("backup-new-address").hidden = made.wallet !== null;
  $("backup-new-address").textContent = t("wallet.new_file_address", { address: made.address });
  $("backup-lighter").hidden = made.limits.memlimit >= 256 * 1024 ** 2;
  $("backup-offer").hidden = false;
  $("backup-offer").scrollIntoView({ block: "start" });
  link.focus();
}

async function submitCreate(event) {
  event.preventDefault();
  const status = $("create-status");
  const passphrase = $("new-passphrase").value;
  if ([...passphrase].length < MIN_PASSPHRASE) { status.textContent = problem({ code: "short_passphrase" }); return; }
  if (passphrase !== $("new-passphrase-again").value) { status.textContent = problem({ code: "passphrase_mismatch" }); return; }
  const mode = createMode;
  $("create-wallet").disabled = true;
  status.textContent = t("wallet.sealing");
  try {
    const made = await (mode === "new" ? createWithBackup : newKeyFile)(passphrase);
    $("create-form").reset();
    status.textContent = "";
    if (made.wallet) {
      $("wallet-message").textContent = t("wallet.created");
      show(made.wallet);
    }
    offerBackup(made);
  } catch (error) {
    status.textContent = problem(error);
  } finally {
    $("create-wallet").disabled = false;
  }
}

// -- importing a key file ------------------------------------------------------------------------

async function submitImport(event) {
  event.preventDefault();
  const status = $("import-status");
  const file = $("import-file").files[0];
  if (!file) { status.textContent = t("wallet.import_no_file"); return; }
  if (!$("import-passphrase").value) { status.textContent = problem({ code: "empty_passphrase" }); return; }
  $("import-button").disabled = true;
  status.textContent = t("wallet.opening");
  try {
    const data = new Uint8Array(await file.slice(0, MAX_FILE_SIZE + 1).arrayBuffer());
    const confirmReplace = (current, incoming) => window.confirm(t("wallet.import_replace", { current, incoming }));
    const wallet = await importKeyFile(data, $("import-passphrase").value, confirmReplace);
    if (wallet === null) {
      status.textContent = t("wallet.import_kept");
      return;
    }
    $("import-form").reset();
    status.textContent = t("wallet.imported", { address: wallet.address });
    show(wallet);
  } catch (error) {
    status.textContent = `${problem(error)} ${t("wallet.unchanged")}`;
  } finally {
    $("import-button").disabled = false;
  }
}

async function start() {
  if (!(await supported())) { $("wallet-unsupported").hidden = false; return; }
  $("new-passphrase-help").textContent = t("wallet.passphrase_help", { min: MIN_PASSPHRASE });
  $("new-passphrase").minLength = MIN_PASSPHRASE;
  $("create-form").addEventListener("submit", submitCreate);
  $("import-form").addEventListener("submit", submitImport);
  $("import-section").hidden = false;
  const wallet = await load();
  if (wallet) show(wallet);
  else showCreate("new");
}

start();
