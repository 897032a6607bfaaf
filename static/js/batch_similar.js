// Probable duplicates in the batch intake grid (issue 19, 并单): as a row's title and content are
// typed or pasted, the grid asks POST /api/v1/issues/similar/ and shows, under the row's title, the
// issues the row probably repeats (at most three, each a link), each with a button "并入 <ref>", and a
// button "不是重复". A click only fills the row's hidden fields (merge_into / kept_apart): the choice is
// applied when the batch is saved, all rows or none (feedback.services.merging.register_at_intake).
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
  const shown = new WeakMap();

  const button = (text, onClick) => {
    const b = document.createElement("button");
    b.type = "button";
    b.className = "button small";
    b.textContent = text;
    b.addEventListener("click", onClick);
    return b;
  };

  // The row's choice, kept in its hidden fields and shown in its hint; 撤销 clears it.
  const choose = (row, hint, mergeInto, keptApart) => {
    fieldOf(row, "merge_into").value = mergeInto;
    fieldOf(row, "kept_apart").value = keptApart.join(",");
    row.classList.toggle("row-merged", Boolean(mergeInto));
    const departments = fieldOf(row, "departments");
    if (departments) departments.required = !mergeInto && departments.dataset.wasRequired === "1";
    if (!mergeInto && !keptApart.length) { render(row, hint, shown.get(row) || []); return; }
    hint.replaceChildren(
      mergeInto ? `保存时并入 ${mergeInto}（不单独交办，由该件统一办理）` : `已确认不是重复（${keptApart.join("、")}），单独办理`,
      " ",
      button("撤销", () => choose(row, hint, "", [])),
    );
  };

  const render = (row, hint, likely) => {
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
    hint.append(" ");
    likely.forEach((r) => hint.append(button(`并入 ${r.issue_ref}`, () => choose(row, hint, r.issue_ref, [])), " "));
    hint.append(button("不是重复", () => choose(row, hint, "", likely.map((r) => r.issue_ref))));
  };

  const show = (row, results) => {
    const cell = fieldOf(row, "title").closest("td");
    let hint = cell.querySelector(".similar-hint");
    if (fieldOf(row, "merge_into").value || fieldOf(row, "kept_apart").value) return; // the clerk has chosen
    const likely = results.filter((r) => r.likely).slice(0, 3);
    shown.set(row, likely);
    if (!likely.length) { if (hint) hint.remove(); return; }
    if (!hint) {
      hint = document.createElement("div");
      hint.className = "similar-hint muted";
      hint.setAttribute("role", "status");
      cell.append(hint);
    }
    const departments = fieldOf(row, "departments");
    if (departments && departments.dataset.wasRequired === undefined) departments.dataset.wasRequired = departments.required ? "1" : "0";
    render(row, hint, likely);
  };

  const ask = async (row) => {
    const title = fieldOf(row, "title");
    const content = fieldOf(row, "content");
    if (!title || !fieldOf(row, "merge_into")) return;
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
