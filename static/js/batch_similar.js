// Probable duplicates in the batch intake grid (issue 19, 并单): as a row's title and content are
// typed or pasted, the grid asks POST /api/v1/issues/similar/ and shows, under the row's title, the
// issues the row probably repeats (at most three, each a link), each with a button "并入 <ref>", and a
// button "不是重复". A click only fills the row's hidden fields (merge_into / kept_apart): the choice is
// applied when the batch is saved, all rows or none (feedback.services.merging.register_at_intake).
// Rows of the same grid that repeat each other: the grid asks POST /api/v1/issues/similar/batch/ with
// all its rows and shows "与第 N 行相似" (with the reason) under both rows, and on the later one a button
// "并入第 N 行", which fills its hidden field merge_with_row (applied when the batch is saved too).
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
    if (mergeInto && fieldOf(row, "merge_with_row")) fieldOf(row, "merge_with_row").value = "";
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

  // --- rows of this grid that repeat each other (并入第 N 行) ---
  const numberOf = (row) => {
    const title = fieldOf(row, "title");
    const match = title && /-(\d+)-title$/.exec(title.name);
    return match ? Number(match[1]) + 1 : 0;
  };
  const rowsByNumber = () => new Map([...grid.querySelectorAll("[data-row]")].map((row) => [numberOf(row), row]));
  let batchTimer = null;
  let batchAsked = "";

  const twinHint = (row) => {
    const cell = fieldOf(row, "title").closest("td");
    let hint = cell.querySelector(".batch-twin-hint");
    if (!hint) {
      hint = document.createElement("div");
      hint.className = "batch-twin-hint muted";
      hint.setAttribute("role", "status");
      cell.append(hint);
    }
    return hint;
  };

  const chooseRow = (row, number, reasons) => {
    const field = fieldOf(row, "merge_with_row");
    field.value = number ? String(number) : "";
    if (number) { fieldOf(row, "merge_into").value = ""; fieldOf(row, "kept_apart").value = ""; }
    row.classList.toggle("row-merged", Boolean(number) || Boolean(fieldOf(row, "merge_into").value));
    const departments = fieldOf(row, "departments");
    if (departments) {
      if (departments.dataset.wasRequired === undefined) departments.dataset.wasRequired = departments.required ? "1" : "0";
      departments.required = !number && departments.dataset.wasRequired === "1";
    }
    batchAsked = "";
    checkBatch();
  };

  const showTwins = (pairs) => {
    const rows = rowsByNumber();
    const notes = new Map();
    pairs.forEach((p) => {
      if (!notes.has(p.row)) notes.set(p.row, []);
      if (!notes.has(p.same_as)) notes.set(p.same_as, []);
      notes.get(p.row).push({ other: p.same_as, reasons: p.reasons, later: true });
      notes.get(p.same_as).push({ other: p.row, reasons: p.reasons, later: false });
    });
    rows.forEach((row, number) => {
      const field = fieldOf(row, "merge_with_row");
      if (!field) return;
      const chosen = Number(field.value || 0);
      const mine = notes.get(number) || [];
      const old = fieldOf(row, "title").closest("td").querySelector(".batch-twin-hint");
      if (!mine.length && !chosen) { if (old) old.remove(); return; }
      const hint = twinHint(row);
      if (chosen) {
        hint.replaceChildren(`保存时并入第 ${chosen} 行（与该行为同一诉求，由该行统一办理）`, " ",
          button("撤销", () => chooseRow(row, 0)));
        return;
      }
      hint.replaceChildren();
      mine.slice(0, 3).forEach((n, i) => {
        if (i) hint.append("；");
        const other = rows.get(n.other);
        const joining = other && fieldOf(other, "merge_with_row") && fieldOf(other, "merge_with_row").value === String(number);
        if (joining) { hint.append(`第 ${n.other} 行保存时并入本行`); return; }
        hint.append(`与第 ${n.other} 行相似（${n.reasons.join("；")}）`);
        if (n.later) hint.append(" ", button(`并入第 ${n.other} 行`, () => chooseRow(row, n.other)));
      });
    });
  };

  const checkBatch = async () => {
    const api = grid.dataset.similarBatchApi;
    if (!api) return;
    const rows = [];
    rowsByNumber().forEach((row, number) => {
      const title = fieldOf(row, "title");
      const content = fieldOf(row, "content");
      const text = { row: number, title: title.value.trim(), content: content ? content.value.trim() : "" };
      if (text.title.length + text.content.length >= 6) rows.push(text);
    });
    const body = JSON.stringify({ rows });
    if (body === batchAsked) return;
    batchAsked = body;
    if (rows.length < 2) { showTwins([]); return; }
    try {
      const response = await fetch(api, {
        method: "POST",
        credentials: "same-origin",
        headers: { "Content-Type": "application/json", "X-CSRFToken": csrf.value, Accept: "application/json" },
        body,
      });
      if (response.ok) showTwins((await response.json()).pairs);
    } catch (error) {
      // A hint that fails must never stop the intake.
    }
  };

  grid.addEventListener("input", (event) => {
    const row = event.target.closest("[data-row]");
    if (!row || !/-(title|content)$/.test(event.target.name || "")) return;
    clearTimeout(timers.get(row));
    timers.set(row, setTimeout(() => ask(row), 700));
    clearTimeout(batchTimer);
    batchTimer = setTimeout(checkBatch, 700);
  });
  // A paste fills many rows at once: ask for each row that has a title.
  grid.addEventListener("paste", () => {
    setTimeout(() => { grid.querySelectorAll("[data-row]").forEach((row) => ask(row)); checkBatch(); }, 100);
  });
  // A page sent back with errors keeps the rows' choices: show them again.
  if (grid.querySelector('[name$="-merge_with_row"]')) checkBatch();
});
