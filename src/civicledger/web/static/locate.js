// "Use my location": fill a 500 m grid-cell field from the device's position.
//
//   <input id="cell" name="cell" …>
//   <button type="button" data-locate="cell">…</button>
//   <small data-located-for="cell" role="status"></small>
//
// The position stays in this browser: only the cell it falls in goes into the field (and so,
// once signed, on the ledger). The grid is civicledger.web.geo's, with the same constants and
// the same operations, so the page and the server agree on every cell.

import { t } from "/static/civic.js";

const ORIGIN_LAT = 35.8;
const ORIGIN_LON = 120.9;
const ROWS_PER_DEGREE = 111320 / 500;
const COLS_PER_DEGREE = 88316 / 500;
const GRID = 10000;

/** The cell "RRRR-CCCC" holding the point, or null outside the grid. */
export function cellAt(lat, lon) {
  if (!Number.isFinite(lat) || !Number.isFinite(lon)) return null;
  const row = Math.floor((lat - ORIGIN_LAT) * ROWS_PER_DEGREE);
  const col = Math.floor((lon - ORIGIN_LON) * COLS_PER_DEGREE);
  if (!(row >= 0 && row < GRID && col >= 0 && col < GRID)) return null;
  return `${String(row).padStart(4, "0")}-${String(col).padStart(4, "0")}`;
}

const REASONS = { 1: "services.locate_denied", 2: "services.locate_failed", 3: "services.locate_failed" };

function locate(button) {
  const field = document.getElementById(button.dataset.locate);
  const status = document.querySelector(`[data-located-for="${button.dataset.locate}"]`);
  const say = (key, fields, state) => {
    status.textContent = t(key, fields);
    status.dataset.state = state;
  };
  if (!navigator.geolocation) {
    say("services.locate_unsupported", {}, "error");
    return;
  }
  button.disabled = true;
  say("services.locating", {}, "busy");
  navigator.geolocation.getCurrentPosition(
    (position) => {
      button.disabled = false;
      const cell = cellAt(position.coords.latitude, position.coords.longitude);
      if (cell === null) {
        say("services.locate_outside", {}, "error");
        return;
      }
      field.value = cell;
      field.dispatchEvent(new Event("input", { bubbles: true }));
      say("services.located", { cell }, "done");
    },
    (error) => {
      button.disabled = false;
      say(REASONS[error.code] || "services.locate_failed", {}, "error");
    },
    { enableHighAccuracy: false, timeout: 15000, maximumAge: 60000 },
  );
}

for (const button of document.querySelectorAll("button[data-locate]")) {
  button.hidden = false;  // without this script (or JavaScript) the field is typed by hand
  button.addEventListener("click", () => locate(button));
}
