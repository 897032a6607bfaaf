// Probable duplicates in the batch intake grid (issue 19, 并单): as a row's title and content are
// typed or pasted, the grid asks POST /api/v1/issues/similar/ and shows, under the row's title, the
// issues the row probably repeats (at most three, each a link). The row is registered as usual; the
// office merges it into the suggested issue from the new issue's page (并单 → 并入其他诉求).
"use strict";

document.addEventListener("DOMContentLoaded", () => {
  const grid = document.querySelector("[data-batch-grid][data-similar-api]");
  if (!grid) return;
  const form = grid.closest("form");
  const csrf = form && form.querySelector('[name="csrfmiddlewaretoken"]');
  if (!csrf) return;
  const timers = new WeakMap();
  const asked = new WeakMap();

  const fieldOf = (row, name) => row.querySelector(`[name$="-${name}"]`);

  const show = (row, results) => {
    const cell = fieldOf(row, "title").closest("td");
    let hint = cell.querySelector(".similar-hint");
    const likely = results.filter((r) => r.likely).slice(0, 3);
    if (!likely.length) { if (hint) hint.remove(); return; }
    if (!hint) {
      hint = document.createElement("div");
      hint.className = "similar-hint muted";
      hint.setAttribute("role", "status");
      cell.append(hint);
    }
    hint.replaceChildren("可能重复：");
    likely.forEach((r, i) => {
      const link = document.createElement("a");
      link.href = r.url;
      link.target = "_blank";
      link.rel = "noopener";
      link.textContent = r.issue_ref;
      link.title = `${r.title}（${r.reasons.join("；")}）`;
      if (i) hint.append("、");
      hint.append(link);
    });
    hint.append("（登记后可在诉求页面并单）");
  };

  const ask = async (row) => {
    const title = fieldOf(row, "title");
    const content = fieldOf(row, "content");
    if (!title) return;
    const body = JSON.stringify({ title: title.value.trim(), content: content ? content.value.trim() : "" });
    const typed = title.value.trim().length + (content ? content.value.trim().length : 0);
    if (body === asked.get(row) || typed < 6) return;
    asked.set(row, body);
    try {
      const response = await fetch(grid.dataset.similarApi, {
        method: "POST",
        credentials: "same-origin",
        headers: { "Content-Type": "application/json", "X-CSRFToken": csrf.value, Accept: "application/json" },
        body,
      });
      if (response.ok) show(row, (await response.json()).results);
    } catch (error) {
      // A hint that fails must never stop the intake.
    }
  };

  grid.addEventListener("input", (event) => {
    const row = event.target.closest("[data-row]");
    if (!row || !/-(title|content)$/.test(event.target.name || "")) return;
    clearTimeout(timers.get(row));
    timers.set(row, setTimeout(() => ask(row), 700));
  });
  // A paste fills many rows at once: ask for each row that has a title.
  grid.addEventListener("paste", () => {
    setTimeout(() => grid.querySelectorAll("[data-row]").forEach((row) => ask(row)), 100);
  });
});
