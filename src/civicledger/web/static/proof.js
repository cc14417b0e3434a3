// A transaction page checks the transaction's inclusion proof itself, trusting no server answer:
// the envelope hashes to the transaction id, its Merkle path leads to the tx_root inside the
// header bytes, and those header bytes hash to the block hash. Signatures are checked too.
import {
  BLOCK_TAG, SIGNATURE_TAG, TX_ID_TAG, concat, decode, digest, equalBytes, fromBase64, fromHex,
  leafHash, rootFromProof, t, toHex,
} from "/static/civic.js";

const section = document.getElementById("proof");
const result = document.getElementById("proof-result");
const steps = document.getElementById("proof-steps");

function step(ok, key, fields = {}) {
  const item = document.createElement("li");
  item.className = ok === null ? "neutral" : ok ? "ok" : "failed";
  item.textContent = `${ok === null ? "–" : ok ? "✓" : "✗"} ${t(key, fields)}`;
  steps.append(item);
  return ok;
}

async function signaturesHold(body, signatures, txId) {
  const [, , , , , signer, cosigners] = body;
  const keys = [signer, ...cosigners];
  if (keys.length !== signatures.length) return false;
  const message = concat(SIGNATURE_TAG, txId);
  for (let i = 0; i < keys.length; i++) {
    const key = await crypto.subtle.importKey("raw", keys[i], { name: "Ed25519" }, false, ["verify"]);
    if (!(await crypto.subtle.verify({ name: "Ed25519" }, key, signatures[i], message))) return false;
  }
  return true;
}

async function check() {
  const txIdHex = section.dataset.txId;
  const response = await fetch(`/v1/transactions/${txIdHex}/proof`);
  if (!response.ok) throw new Error(`HTTP ${response.status}`);
  const proof = await response.json();
  const envelope = fromBase64(proof.envelope);
  const [bodyBytes, signatures] = decode(envelope);
  const txId = await digest(TX_ID_TAG, bodyBytes);
  let ok = step(toHex(txId) === txIdHex, "proof.step_id");
  let signed = null;
  try {
    signed = await signaturesHold(decode(bodyBytes), signatures, txId);
  } catch {
    signed = null;  // a browser without WebCrypto Ed25519: the inclusion proof stands on its own
  }
  if (signed === null) step(null, "proof.step_signature_unchecked");
  else ok = step(signed, "proof.step_signature") && ok;
  const headerBytes = fromHex(proof.header_encoded);
  const header = decode(headerBytes);
  const txRoot = header[7];
  const root = await rootFromProof(await leafHash(envelope), proof.proof.index, proof.proof.size,
    proof.proof.path.map(fromHex));
  ok = step(root !== null && equalBytes(root, txRoot), "proof.step_root",
    { index: proof.proof.index, size: proof.proof.size }) && ok;
  const blockHash = toHex(await digest(BLOCK_TAG, headerBytes));
  ok = step(blockHash === section.dataset.blockHash && header[2] === proof.height, "proof.step_block",
    { height: proof.height }) && ok;
  result.textContent = ok ? t("proof.verified") : t("proof.failed");
  result.className = ok ? "ok" : "failed";
  result.dataset.verified = String(ok);
}

if (section) {
  check().catch((error) => {
    result.textContent = t("proof.error", { reason: error.message });
    result.className = "failed";
    result.dataset.verified = "false";
  });
}
