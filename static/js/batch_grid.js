// The batch intake grid of the three channels (templates/feedback/_batch_grid.html).
// The page works without this script (8 rows, 添加行 adds 5 on the server, departments typed by
// name); with it: rows added one at a time, Enter at the end of a row opens the next one, a block
// copied from Excel/WPS pastes into the grid, and 承办单位 offers departments as one types (name,
// 简称, code or pinyin initials, computed on the server into #batch-departments). Text only: the
// script never writes HTML it did not get from the page's own <template>.
document.addEventListener("DOMContentLoaded", () => {
  document.querySelectorAll("[data-batch-grid]").forEach(setUpGrid);
});

const SEPARATORS = /[；;，,、/\s]+/;

function setUpGrid(grid) {
  const form = grid.closest("form");
  const body = grid.querySelector("[data-rows]");
  const template = grid.querySelector("[data-row-template]");
  const total = grid.querySelector('input[name$="-TOTAL_FORMS"]');
  const max = grid.querySelector('input[name$="-MAX_NUM_FORMS"]');
  const status = grid.querySelector("[data-batch-status]");
  const dataNode = document.getElementById("batch-departments");
  const departments = dataNode ? JSON.parse(dataNode.textContent) : [];
  const columns = [...grid.querySelectorAll("thead th[data-field]")].map((th) => ({
    field: th.dataset.field,
    names: (th.dataset.pasteNames || th.textContent).split("|").map(normalise),
  }));

  const rows = () => [...body.querySelectorAll("tr[data-row]")];
  const cells = (row) => [...row.querySelectorAll("input:not([type=hidden]), select, textarea")];
  const say = (text) => { if (status) status.textContent = text; };

  function addRow() {
    const count = Number(total.value);
    if (max && count >= Number(max.value)) {
      say(`一批最多 ${max.value} 行。`);
      return null;
    }
    const html = template.innerHTML.replaceAll("__prefix__", String(count)).replaceAll("__number__", String(count + 1));
    const holder = document.createElement("tbody");
    holder.innerHTML = html;  // the page's own template, numbers only substituted
    const row = holder.querySelector("tr[data-row]");
    body.appendChild(row);
    total.value = String(count + 1);
    row.querySelectorAll("[data-departments]").forEach((input) => setUpTypeahead(input, departments));
    return row;
  }

  grid.querySelectorAll("[data-departments]").forEach((input) => setUpTypeahead(input, departments));

  const addButton = grid.querySelector("[data-add-row]");
  if (addButton) {
    addButton.textContent = "添加一行";
    addButton.addEventListener("click", (event) => {
      event.preventDefault();
      const row = addRow();
      if (row) cells(row)[0].focus();
    });
  }

  body.addEventListener("keydown", (event) => {
    if (event.key !== "Enter" || event.isComposing || event.defaultPrevented) return;
    const target = event.target;
    const row = target.closest("tr[data-row]");
    if (!row) return;
    if (event.ctrlKey || event.metaKey) {  // Ctrl+Enter: submit the batch
      event.preventDefault();
      const submit = grid.querySelector("[data-batch-submit]");
      if (submit && !submit.disabled) form.requestSubmit(submit);
      return;
    }
    const own = cells(row);
    const last = own[own.length - 1] === target;
    if (target.tagName === "TEXTAREA" && (event.shiftKey || !last)) return;  // a new line in the text
    event.preventDefault();  // Enter never submits half a batch
    if (!last) {
      own[own.indexOf(target) + 1].focus();
      return;
    }
    const all = rows();
    const next = all[all.indexOf(row) + 1] || addRow();
    if (next) cells(next)[0].focus();
  });

  body.addEventListener("paste", (event) => {
    const target = event.target;
    const row = target.closest && target.closest("tr[data-row]");
    if (!row) return;
    const text = (event.clipboardData || window.clipboardData).getData("text");
    if (!/[\t\n]/.test(text.replace(/\r?\n$/, ""))) return;  // one value: the browser pastes it
    event.preventDefault();
    pasteBlock(parseTsv(text), row, target);
  });

  function pasteBlock(block, startRow, startCell) {
    if (!block.length) return;
    let mapping;  // for each pasted column: the grid field it fills (or null)
    const header = block[0].map(normalise);
    const named = header.map((name) => {
      const column = columns.find((c) => c.names.includes(name));
      return column ? column.field : null;
    });
    if (named.filter(Boolean).length >= 2) {
      mapping = named;
      block = block.slice(1);
    } else {  // no header row: the grid's column order, from the cell pasted into
      const start = Math.max(0, cells(startRow).indexOf(startCell));
      mapping = block[0].map((_, i) => (columns[start + i] ? columns[start + i].field : null));
    }
    let row = startRow;
    const misses = [];
    let filled = 0;
    for (const values of block) {
      if (!values.some((v) => v.trim())) continue;  // empty rows in the sheet
      if (!row) row = addRow();
      if (!row) break;
      const number = rows().indexOf(row) + 1;
      values.forEach((value, i) => {
        const field = mapping[i];
        if (!field) return;
        const input = row.querySelector(`[name$="-${field}"]`);
        if (!input || !fill(input, value.trim())) {
          misses.push(`第 ${number} 行“${value.trim()}”`);
        }
      });
      filled += 1;
      const all = rows();
      row = all[all.indexOf(row) + 1] || null;
    }
    say(`已粘贴 ${filled} 行，请核对后提交。` + (misses.length ? `未能对应选项：${misses.join("、")}，请手动选择。` : ""));
  }
}

// Puts a pasted value in a cell: a select takes the option whose text or value matches.
function fill(input, value) {
  if (input.tagName === "SELECT") {
    if (!value) return true;
    const wanted = normalise(value);
    const options = [...input.options].filter((o) => o.value);
    const match = options.find((o) => normalise(o.text) === wanted || o.value === value)
      || options.find((o) => normalise(o.text).split("/").map((part) => part.trim()).includes(wanted))
      || options.find((o) => normalise(o.text).includes(wanted));
    if (!match) {
      input.classList.add("paste-miss");
      return false;
    }
    input.value = match.value;
    input.classList.remove("paste-miss");
  } else {
    input.value = value;
  }
  input.dispatchEvent(new Event("change", { bubbles: true }));
  return true;
}

function normalise(text) {
  return String(text).replace(/\s+/g, "").replace(/[（(].*?[）)]$/, "").toLowerCase();
}

// Tab-separated text as Excel and WPS put it on the clipboard: a cell holding a line break or a tab
// comes quoted ("…", a quote doubled inside); the trailing line break is not a row.
function parseTsv(text) {
  const rows = [];
  let row = [];
  let cell = "";
  let quoted = false;
  for (let i = 0; i < text.length; i += 1) {
    const c = text[i];
    if (quoted) {
      if (c === '"' && text[i + 1] === '"') { cell += '"'; i += 1; }
      else if (c === '"') quoted = false;
      else cell += c;
    } else if (c === '"' && cell === "") quoted = true;
    else if (c === "\t") { row.push(cell); cell = ""; }
    else if (c === "\n" || c === "\r") {
      if (c === "\r" && text[i + 1] === "\n") i += 1;
      row.push(cell); rows.push(row); row = []; cell = "";
    } else cell += c;
  }
  if (cell !== "" || row.length) { row.push(cell); rows.push(row); }
  return rows;
}

// 承办单位: a list under the cell while typing the current name (the text after the last 、/；).
// ArrowDown/ArrowUp choose, Enter takes it and leaves room for a co-handler, Tab takes it and moves
// on, Escape closes. The input keeps working as plain text: the server reads the names.
let listCount = 0;
function setUpTypeahead(input, departments) {
  if (input.dataset.typeahead) return;
  input.dataset.typeahead = "1";
  listCount += 1;
  const list = document.createElement("ul");
  list.id = `dept-list-${listCount}`;
  list.className = "typeahead";
  list.setAttribute("role", "listbox");
  list.setAttribute("aria-label", "承办单位");
  list.hidden = true;
  input.after(list);
  input.setAttribute("role", "combobox");
  input.setAttribute("aria-autocomplete", "list");
  input.setAttribute("aria-expanded", "false");
  input.setAttribute("aria-controls", list.id);
  let matches = [];
  let active = 0;

  const current = () => {
    const parts = input.value.split(SEPARATORS);
    return parts[parts.length - 1];
  };
  const close = () => {
    list.hidden = true;
    input.setAttribute("aria-expanded", "false");
    input.removeAttribute("aria-activedescendant");
    matches = [];
  };
  const show = () => {
    list.replaceChildren();
    matches.forEach((d, i) => {
      const item = document.createElement("li");
      item.id = `${list.id}-${i}`;
      item.setAttribute("role", "option");
      item.setAttribute("aria-selected", String(i === active));
      item.textContent = d.name;
      const small = document.createElement("small");
      small.textContent = ` ${d.kind}`;
      item.appendChild(small);
      item.addEventListener("mousedown", (event) => { event.preventDefault(); take(i, true); });
      list.appendChild(item);
    });
    list.hidden = matches.length === 0;
    input.setAttribute("aria-expanded", String(!list.hidden));
    if (!list.hidden) input.setAttribute("aria-activedescendant", `${list.id}-${active}`);
  };
  const take = (i, more) => {
    const chosen = matches[i];
    if (!chosen) return;
    const parts = input.value.split(SEPARATORS);
    parts[parts.length - 1] = chosen.name;
    input.value = parts.filter(Boolean).join("；") + (more ? "；" : "");
    input.dispatchEvent(new Event("change", { bubbles: true }));
    close();
  };

  input.addEventListener("input", () => {
    const query = current().toLowerCase();
    matches = query ? rank(departments, query).slice(0, 8) : [];
    active = 0;
    show();
  });
  input.addEventListener("keydown", (event) => {
    if (list.hidden || event.isComposing) return;
    if (event.key === "ArrowDown" || event.key === "ArrowUp") {
      event.preventDefault();
      active = (active + (event.key === "ArrowDown" ? 1 : matches.length - 1)) % matches.length;
      show();
    } else if (event.key === "Enter") {
      event.preventDefault();  // taken here: the grid's Enter (next row) waits for a closed list
      take(active, true);
    } else if (event.key === "Tab" && !event.shiftKey) {
      take(active, false);  // and the Tab moves on
    } else if (event.key === "Escape") {
      event.preventDefault();
      close();
    }
  });
  input.addEventListener("blur", () => {
    input.value = input.value.replace(/[；;、,，\s]+$/, "");
    close();
  });
}

// Best first: a key equal to what was typed, then one starting with it, containing it, or holding
// its letters in order (住建 → 住房和城乡建设局, zjj → 住建局's initials).
function rank(departments, query) {
  const scored = [];
  departments.forEach((d, order) => {
    let best = 0;
    for (const raw of d.keys) {
      const key = raw.toLowerCase();
      if (key === query) best = Math.max(best, 4);
      else if (key.startsWith(query)) best = Math.max(best, 3);
      else if (key.includes(query)) best = Math.max(best, 2);
      else if (query.length > 1 && inOrder(query, key)) best = Math.max(best, 1);
    }
    if (best) scored.push({ d, best, order });
  });
  scored.sort((a, b) => b.best - a.best || a.order - b.order);
  return scored.map((s) => s.d);
}

function inOrder(needle, haystack) {
  let at = 0;
  for (const c of needle) {
    at = haystack.indexOf(c, at);
    if (at < 0) return false;
    at += 1;
  }
  return true;
}
