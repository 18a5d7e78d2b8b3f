// Lineage on a version's page: the snapshot it was published from and that snapshot's
// session, as the version's metadata names them (snapshotId, sourceSessionId), linked to
// their entries in the Snapshots and Sessions lists. Loaded before app.js (uses its el).
"use strict";

// The <dt>/<dd> pairs of a version's lineage.
function lineage(service) {
  const entry = (label, id, page) => [el("dt", {}, label), el("dd", {}, id
    ? el("a", { href: `#/${page}/${encodeURIComponent(id)}`, id: `lineage-${page}` }, id)
    : el("span", { class: "hint" }, "none"))];
  return [...entry("Snapshot", service.snapshotId, "snapshots"),
    ...entry("Session", service.sourceSessionId, "sessions")];
}

// On a list page opened from a lineage link: mark the entry's row, or say it is gone.
function markEntry(id, missing) {
  if (!id) return;
  const cell = [...document.querySelectorAll("#main td")].find((td) => td.textContent === id);
  const row = cell?.closest("tr");
  if (row) {
    row.classList.add("selected");
    row.setAttribute("aria-current", "true");
    row.scrollIntoView({ block: "center" });
  } else {
    document.querySelector("#main h1")?.after(el("p", { class: "hint", id: "lineage-missing" },
      missing));
  }
}
