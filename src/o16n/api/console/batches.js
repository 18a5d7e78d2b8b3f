// A version's batch executions: start one, follow its progress, cancel it, read each record's
// result and download the files it produced. Uses el, api, enc, table, failure, saveAs of app.js.
"use strict";

const RECORDS_SHOWN = 100;
const RUNNING = new Set(["Pending", "InProgress"]);

function recordFiles(base, id, index, result) {
  const names = Object.entries(result.outputFiles || {})
    .filter(([, content]) => content !== null).map(([fileName]) => fileName);
  if (!names.length) return el("span", { class: "hint" }, "none");
  const path = (fileName) => `${base}/${enc(id)}/${index}/files/${enc(fileName)}`;
  return el("div", { class: "actions" }, names.map((fileName) =>
    el("button", { type: "button", class: "secondary",
      "aria-label": `Download ${fileName} of record ${index}`,
      onclick: () => saveAs(path(fileName), fileName) }, fileName)));
}

function recordResults(base, id, status) {
  const results = status.batchExecutionResults || [];
  const rows = results.slice(0, RECORDS_SHOWN).map((result, index) => {
    if (result === null) return [String(index), "not run yet", "", ""];
    return [String(index),
      el("span", { class: result.success ? "ok" : "error" },
        result.success ? "Success" : "Failed"),
      result.success ? el("pre", {}, JSON.stringify(result.outputParameters, null, 2))
        : el("pre", { class: "error" }, result.errorMessage || "no message"),
      recordFiles(base, id, index, result)];
  });
  const shown = results.length > RECORDS_SHOWN
    ? `the first ${RECORDS_SHOWN} of ${results.length} records` : `${results.length} records`;
  return el("section", { id: "batch-results", "aria-labelledby": "batch-results-title" },
    el("h3", { id: "batch-results-title" }, `Results of ${id}`),
    table(shown, ["Record", "Result", "Outputs or error", "Files"], rows));
}

function progress(id, status) {
  return el("span", {}, el("progress", { max: String(Math.max(status.totalItemCount, 1)),
    value: String(status.completedItemCount), "aria-label": `progress of ${id}` }),
  ` ${status.completedItemCount}/${status.totalItemCount}`);
}

async function batchSection(name, version) {
  const base = `/api/${enc(name)}/${enc(version)}/batch`;
  const list = el("div", { id: "batches" });
  const records = el("textarea", { id: "batch-records", placeholder: '[{"x": 1}, {"x": 2}]' });
  let opened = null; // the execution whose results are shown
  const refresh = async () => {
    try {
      const ids = await api("GET", base);
      const states = await Promise.all(ids.map((id) => api("GET", `${base}/${enc(id)}`)));
      const actions = (id, status) => el("div", { class: "actions" },
        el("button", { type: "button", class: "secondary", "aria-controls": "batch-results",
          "aria-label": `Results of ${id}`, onclick: () => { opened = id; refresh(); } },
        "Results"),
        el("button", { type: "button", class: "danger",
          "aria-label": `${RUNNING.has(status.state) ? "Cancel" : "Delete"} ${id}`,
          onclick: async () => {
            if (!confirm(`Cancel and delete the batch execution ${id} with its files?`)) return;
            await api("DELETE", `${base}/${enc(id)}`);
            refresh();
          } }, RUNNING.has(status.state) ? "Cancel" : "Delete"));
      const shown = ids.indexOf(opened);
      list.replaceChildren(table(`${ids.length} batch executions`,
        ["Execution", "State", "Progress", ""],
        ids.map((id, i) => [id, states[i].state, progress(id, states[i]),
          actions(id, states[i])])),
      shown >= 0 ? recordResults(base, opened, states[shown]) : null);
      const running = states.some((s) => RUNNING.has(s.state));
      if (running && list.isConnected) setTimeout(refresh, 1000);
    } catch (error) {
      list.replaceChildren(failure(error));
    }
  };
  const form = el("form", { id: "batch-form", onsubmit: async (event) => {
    event.preventDefault();
    try {
      const started = await api("POST", base, JSON.parse(records.value || "[]"));
      opened = started.batchExecutionId;
      refresh();
    } catch (error) {
      list.replaceChildren(failure(error));
    }
  } }, el("label", { for: "batch-records" }, "Records",
    el("span", { class: "hint" }, " a JSON array of inputs")), records,
  el("div", { class: "actions" }, el("button", { type: "submit" }, "Start batch"),
    el("button", { type: "button", class: "secondary", onclick: refresh }, "Refresh")));
  refresh();
  return el("section", { class: "card" }, el("h2", {}, "Batch executions"), form, list);
}
