// Volunteering pages: small helpers around the action forms of static/actions.js.
//
// - <input type="datetime-local" data-ms="…"> shows that block time in this browser's own time
//   zone (the server cannot know it), so the `time` field kind reads back the same instant;
// - <fieldset data-list-for="ID"> checkboxes fill the hidden list input #ID ("a,b"), at most
//   data-most of them;
// - a certificate page recomputes the certificate's digest here, trusting no server.
// Regions that actions.js reloads after a commit are set up again.
import { digest, encode, fromHex, localInputValue, t } from "/static/civic.js";

const CERTIFICATE_TAG = "civicledger/volunteer-certificate";

function fillTimes(root) {
  for (const input of root.querySelectorAll("input[type=datetime-local][data-ms]:not([data-filled])")) {
    input.value = input.defaultValue = localInputValue(input.dataset.ms);
    input.dataset.filled = "1";
  }
}

function syncList(fieldset) {
  const target = document.getElementById(fieldset.dataset.listFor);
  if (!target) return;
  const boxes = [...fieldset.querySelectorAll("input[type=checkbox]")];
  const chosen = boxes.filter((b) => b.checked).map((b) => b.value);
  target.value = chosen.join(",");
  const most = Number(fieldset.dataset.most || 0);
  if (most) for (const b of boxes) b.disabled = !b.checked && chosen.length >= most;
}

function setUp(root) {
  fillTimes(root);
  root.querySelectorAll("fieldset[data-list-for]").forEach(syncList);
}

document.addEventListener("change", (event) => {
  const fieldset = event.target.closest?.("fieldset[data-list-for]");
  if (fieldset) syncList(fieldset);
});
// A form reset (after a commit) puts checkboxes back; keep the hidden lists in step.
document.addEventListener("reset", (event) => {
  setTimeout(() => event.target.querySelectorAll?.("fieldset[data-list-for]").forEach(syncList));
});

new MutationObserver((changes) => {
  for (const change of changes) for (const node of change.addedNodes) if (node.querySelectorAll) setUp(node);
}).observe(document.body, { childList: true, subtree: true });

/** contracts/volunteering: digest("civicledger/volunteer-certificate", encode(record fields)). */
export async function certificateDigest(c) {
  const fields = [fromHex(c.volunteer_hex), c.request, c.org, c.district, c.task, c.place, c.minutes,
    c.work_date_ms, c.issued_ms, c.credits, c.currency, c.uncredited_minutes];
  return digest(CERTIFICATE_TAG, encode(fields.map((v) => (typeof v === "number" ? BigInt(v) : v))));
}

async function checkCertificate() {
  const source = document.getElementById("certificate-value");
  const line = document.getElementById("verify-browser");
  if (!source || !line) return;
  const value = JSON.parse(source.textContent);
  const mine = Array.from(await certificateDigest(value), (b) => b.toString(16).padStart(2, "0")).join("");
  const ok = mine === value.digest;
  line.dataset.verified = String(ok);
  line.replaceChildren();
  const mark = document.createElement("span");
  mark.className = ok ? "ok" : "failed";
  mark.textContent = ok ? `✓ ${t("volunteer.verify_browser_ok")}` : `✗ ${t("volunteer.verify_browser_failed")}`;
  line.append(mark);
}

setUp(document);
checkCertificate();
