// The explorer's home page kept live: new blocks and their transactions arrive over SSE.
import { el, seoulTime, shortId, t } from "/static/civic.js";

const KEEP = 10;
const blocks = document.getElementById("latest-blocks");
const txs = document.getElementById("latest-txs");
const state = document.getElementById("live-state");

function trim(body) {
  while (body.rows.length > KEEP) body.deleteRow(body.rows.length - 1);
}

function statusCell(status) {
  return status === "ok" ? el("span", { class: "ok" }, t("status.ok")) : el("span", { class: "failed", title: status }, t("status.failed"));
}

async function addBlock(block) {
  if (blocks.querySelector(`tr[data-height="${block.height}"]`)) return;
  blocks.prepend(el("tr", { "data-height": String(block.height), class: "fresh" },
    el("td", {}, el("a", { href: `/blocks/${block.height}` }, `#${block.height}`)),
    el("td", {}, seoulTime(block.time_ms)),
    el("td", {}, String(block.tx_count))));
  trim(blocks);
  if (!block.tx_count) return;
  const response = await fetch(`/v1/blocks/${block.height}`);
  if (!response.ok) return;
  const body = await response.json();
  for (const tx of body.transactions) {
    txs.prepend(el("tr", { class: "fresh" },
      el("td", {}, el("a", { class: "mono", href: `/tx/${tx.tx_id}` }, shortId(tx.tx_id))),
      el("td", {}, el("span", { class: "call" }, `${tx.contract}.`, el("wbr"), tx.method)),
      el("td", { class: "status" }, statusCell(tx.status))));
  }
  trim(txs);
}

if (blocks && typeof EventSource !== "undefined") {
  const source = new EventSource("/v1/events?blocks=true");
  source.addEventListener("open", () => { state.textContent = t("live.on"); state.dataset.state = "live"; });
  source.addEventListener("error", () => { state.textContent = t("live.reconnecting"); state.dataset.state = "retrying"; });
  source.addEventListener("block", (message) => addBlock(JSON.parse(message.data)));
}
