// The page's only script: show the sub-fields of a chosen option or a switched-on group,
// run "Check" without leaving the page (so typed secrets stay in the form, never echoed),
// and follow a sync's progress through server-sent events.
"use strict";

function csrfToken() {
  const meta = document.querySelector('meta[name="csrf-token"]');
  return meta ? meta.content : "";
}

function wireChoosers(root) {
  root.querySelectorAll("select[data-chooser]").forEach((select) => {
    const show = () => {
      root.querySelectorAll(`fieldset[data-option-of="${select.dataset.chooser}"]`).forEach((set) => {
        set.hidden = set.dataset.option !== select.value;
      });
    };
    select.addEventListener("change", show);
    show();
  });
  root.querySelectorAll("input[data-switch]").forEach((box) => {
    const show = () => {
      const set = root.querySelector(`fieldset[data-group-of="${box.dataset.switch}"]`);
      if (set) set.hidden = !box.checked;
    };
    box.addEventListener("change", show);
    show();
  });
}

function clearProblems(form) {
  form.querySelectorAll("ul.problems").forEach((list) => { list.textContent = ""; });
  form.querySelectorAll("[aria-invalid]").forEach((input) => input.removeAttribute("aria-invalid"));
}

function showProblems(form, problems) {
  const general = [];
  problems.forEach((problem) => {
    const list = form.querySelector(`ul.problems[data-for="${CSS.escape(problem.path)}"]`);
    if (!list) { general.push(problem); return; }
    const item = document.createElement("li");
    item.textContent = `${problem.message} @ ${problem.path}`;
    list.appendChild(item);
    const block = list.closest(".field");
    const input = block && block.querySelector("input, select, textarea");
    if (input) input.setAttribute("aria-invalid", "true");
  });
  return general;
}

function wireCheck(form) {
  const button = form.querySelector("button[data-check]");
  const result = document.getElementById("check-result");
  if (!button || !result) return;
  button.addEventListener("click", async (event) => {
    event.preventDefault();
    clearProblems(form);
    result.className = "notice";
    result.textContent = "Checking…";
    result.hidden = false;
    let answer;
    try {
      const response = await fetch(button.dataset.check, {
        method: "POST",
        body: new FormData(form),
        headers: { "X-CSRF-Token": csrfToken(), "Accept": "application/json" },
        credentials: "same-origin",
      });
      answer = await response.json();
    } catch (error) {
      result.className = "notice bad";
      result.textContent = "The page could not reach headwater serve.";
      return;
    }
    const general = showProblems(form, answer.problems || []);
    result.className = answer.ok ? "notice good" : "notice bad";
    const lines = [answer.message].concat(general.map((p) => `${p.message} @ ${p.path}`));
    result.textContent = lines.filter(Boolean).join("\n");
  });
}

function cell(text, numeric) {
  const td = document.createElement("td");
  td.textContent = text;
  if (numeric) td.className = "num";
  return td;
}

function wireProgress() {
  const table = document.getElementById("progress");
  if (!table || !table.dataset.events) return;
  const body = table.querySelector("tbody");
  const state = document.getElementById("run-status");
  const source = new EventSource(table.dataset.events);
  const draw = (snapshot) => {
    body.textContent = "";
    snapshot.schemas.forEach((row) => {
      const tr = document.createElement("tr");
      tr.dataset.schema = row.schema;
      const status = cell(row.status);
      status.className = `status-${row.status}`;
      tr.append(cell(row.schema), status, cell(row.pages, true), cell(row.rows_read, true),
        cell(row.rows_written, true), cell(row.retries, true), cell(`${row.elapsed}s`, true));
      body.appendChild(tr);
    });
    if (state) { state.textContent = snapshot.status; state.className = `status-${snapshot.status}`; }
  };
  source.addEventListener("progress", (event) => draw(JSON.parse(event.data)));
  source.addEventListener("end", (event) => {
    draw(JSON.parse(event.data));
    source.close();
    // The summary and errors are drawn by the server: fetch the finished page.
    window.location.reload();
  });
}

document.addEventListener("DOMContentLoaded", () => {
  document.querySelectorAll("form.connect").forEach((form) => { wireChoosers(form); wireCheck(form); });
  wireProgress();
});
