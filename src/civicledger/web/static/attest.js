// A block page checks who signed the block, trusting no server answer for the signatures: each
// member peer's Ed25519 signature over digest("civicledger/attestation", encode([chain id,
// height, header hash])) is verified here against the key governance registered for this
// height (core/attestation.py is the Python twin).
import { digest, encode, fromHex, t } from "/static/civic.js";

export const ATTESTATION_TAG = "civicledger/attestation";

const section = document.getElementById("attestations");
const result = document.getElementById("attest-result");
const steps = document.getElementById("attest-steps");

function step(ok, key, fields) {
  const item = document.createElement("li");
  item.className = ok ? "ok" : "failed";
  item.textContent = `${ok ? "✓" : "✗"} ${t(key, fields)}`;
  steps.append(item);
}

/** The bytes a peer signs for block `height` with header hash `headerHash` (hex). */
export async function signingPayload(chainId, height, headerHash) {
  return digest(ATTESTATION_TAG, encode([chainId, height, fromHex(headerHash)]));
}

async function verifies(publicKeyHex, message, signatureHex) {
  const key = await crypto.subtle.importKey("raw", fromHex(publicKeyHex), { name: "Ed25519" }, false,
    ["verify"]);
  return crypto.subtle.verify({ name: "Ed25519" }, key, fromHex(signatureHex), message);
}

async function check() {
  const height = Number(section.dataset.height);
  const blockHash = section.dataset.blockHash;
  const response = await fetch(`/v1/blocks/${height}/attestations`);
  if (!response.ok) throw new Error(`HTTP ${response.status}`);
  const answer = await response.json();
  if (answer.mode === "solo") {
    result.textContent = t("attest.solo");
    result.className = "neutral";
    return;
  }
  const payload = await signingPayload(section.dataset.chainId, height, blockHash);
  const signers = new Set();
  for (const attestation of answer.attestations) {
    const org = attestation.org;
    if (!(org in answer.peers)) { step(false, "attest.unregistered", { org }); continue; }
    if (attestation.header_hash !== blockHash) { step(false, "attest.other_header", { org }); continue; }
    let valid;
    try {
      valid = await verifies(answer.peers[org], payload, attestation.signature);
    } catch {
      result.textContent = t("attest.unchecked");
      result.className = "neutral";
      return;
    }
    step(valid, valid ? "attest.signed" : "attest.bad_signature", { org });
    if (valid) signers.add(org);
  }
  const final = answer.quorum > 0 && signers.size >= answer.quorum;
  result.textContent = t(final ? "attest.final" : "attest.not_final",
    { count: signers.size, quorum: answer.quorum });
  result.className = final ? "ok" : "failed";
  section.dataset.signers = [...signers].sort().join(",");
  section.dataset.final = String(final);
}

if (section) {
  check().catch((error) => {
    result.textContent = t("attest.error", { reason: error.message });
    result.className = "failed";
  });
}
