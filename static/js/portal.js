// The portal's own script (served by the portal; county intranets have no internet).
// Pages work without it; it only adds conveniences.
document.addEventListener("DOMContentLoaded", () => {
  // Ask before irreversible review decisions.
  document.querySelectorAll("form[data-confirm]").forEach((form) => {
    form.addEventListener("submit", (event) => {
      if (!window.confirm(form.dataset.confirm)) event.preventDefault();
    });
  });

  // Phones: fold the filter bars whose only chosen field, if any, is the first (search).
  if (window.matchMedia("(max-width: 720px)").matches) {
    document.querySelectorAll("form.filters").forEach(foldFilters);
    // Long tables (the dashboard's) behind a tap: the headline figures come first on a phone.
    document.querySelectorAll("details[data-fold-phone]").forEach((details) => { details.open = false; });
  }

  // Live deadline preview on the registration form (templates/feedback/_deadline_preview.html).
  document.querySelectorAll("[data-deadline-preview]").forEach(setUpDeadlinePreview);
});

// Shows the due date and how it was counted, from GET /api/v1/deadlines/preview/, whenever the
// lead department, the deadline fields, the channel or the nature change. With the deadline
// fields empty it previews the channel's default policy (data-policies, rendered by the server
// from DeadlinePolicy, the same choice services.policy_for makes). Text only: never innerHTML.
function setUpDeadlinePreview(box) {
  const form = box.closest("form");
  if (!form) return;
  const due = box.querySelector("[data-preview-due]");
  const list = box.querySelector("[data-preview-lines]");
  const policies = JSON.parse(box.dataset.policies || "{}");
  const watched = ["lead", "deadline_amount", "deadline_unit", "channel", "nature"];
  let timer = null;
  let controller = null;
  let generation = 0;

  const value = (name) => {
    const field = form.elements.namedItem(name);
    return field && typeof field.value === "string" ? field.value.trim() : "";
  };

  const show = (title, lines, isError) => {
    due.textContent = title;
    list.replaceChildren(...lines.map((line) => {
      const item = document.createElement("li");
      item.textContent = line;
      return item;
    }));
    box.classList.toggle("error", Boolean(isError));
    box.hidden = false;
  };

  const firstMessage = (body) => {
    if (!body || typeof body !== "object") return "请检查时限。";
    if (typeof body.detail === "string") return body.detail;
    const first = Object.values(body)[0];
    return Array.isArray(first) ? String(first[0]) : "请检查时限。";
  };

  const update = () => {
    if (controller) controller.abort();
    controller = null;
    if (!value("lead")) {
      box.hidden = true; // nothing is assigned, so there is no deadline yet
      return;
    }
    let amount = value("deadline_amount");
    let unit = value("deadline_unit");
    const intro = [];
    if (!amount && !unit) {
      const byNature = policies[value("channel")] || {};
      const policy = byNature[value("nature")] || byNature[""];
      if (!policy) {
        show("该渠道尚未设置默认办理时限，请填写时限。", [], true);
        return;
      }
      amount = String(policy.amount);
      unit = policy.unit;
      intro.push(`按默认时限：${policy.label}`);
    } else if (!amount || !unit) {
      show("办理时限和时限单位需同时填写，或同时留空（按渠道默认时限）。", [], true);
      return;
    }
    const params = new URLSearchParams({ start: box.dataset.start, amount, unit });
    const mine = ++generation;
    controller = new AbortController();
    due.textContent = "正在计算办理期限…";
    box.hidden = false;
    fetch(`${box.dataset.url}?${params}`, {
      credentials: "same-origin",
      headers: { Accept: "application/json" },
      signal: controller.signal,
    })
      .then((response) => response.json().then((body) => ({ ok: response.ok, body })))
      .then(({ ok, body }) => {
        if (mine !== generation) return; // a newer request is on its way
        if (ok) {
          const provisional = body.provisional ? "（暂定）" : "";
          show(`办理期限：${body.due_date}${provisional}`, intro.concat(body.explanation || []), false);
        } else {
          show(`无法预览办理期限：${firstMessage(body)}`, [], true);
        }
      })
      .catch((error) => {
        if (error.name === "AbortError" || mine !== generation) return;
        show("暂时无法预览办理期限；保存时仍按规则计算。", [], true);
      });
  };

  const schedule = () => {
    window.clearTimeout(timer);
    timer = window.setTimeout(update, 250);
  };
  watched.forEach((name) => {
    const field = form.elements.namedItem(name);
    if (!field || typeof field.addEventListener !== "function") return;
    field.addEventListener("change", schedule);
    field.addEventListener("input", schedule);
  });
  update();
}

// Printable documents (templates/feedback/print/): the 打印 button stays hidden without this script
// (the page says Ctrl+P instead). Reply previews on the issue page: a scan that cannot be rendered
// shows a line of text where the picture would be.
document.addEventListener("DOMContentLoaded", () => {
  document.querySelectorAll("button[data-print]").forEach((button) => {
    button.hidden = false;
    button.addEventListener("click", () => window.print());
  });
  document.querySelectorAll("img[data-preview]").forEach((img) => {
    const source = img.getAttribute("src");
    let tries = 0;
    const fallback = async () => {
      // 202: the preview is being rendered out of the request (issue 15); ask again every 2 s, a minute at most.
      let status = 0;
      try {
        status = (await fetch(source, { credentials: "same-origin", cache: "no-store" })).status;
      } catch (error) {
        status = 0;
      }
      if (status === 202 && tries < 30) {
        tries += 1;
        img.alt = "预览生成中…";
        setTimeout(() => { img.src = `${source}?try=${tries}`; }, 2000);
        return;
      }
      const note = document.createElement("p");
      note.className = "muted";
      note.textContent = img.dataset.preview;
      (img.closest("a.preview") || img).replaceWith(note);
    };
    img.addEventListener("error", fallback);
    if (img.complete && img.naturalWidth === 0) fallback();
  });
});

// A filter bar on a phone: when the address chooses nothing beyond the first field (search) and no
// field shows an error, only the first field and the buttons show, and "更多筛选" opens the rest.
// Text and elements only: never innerHTML.
function foldFilters(form) {
  const fields = Array.from(form.querySelectorAll(":scope > .field:not(.actions)"));
  const actions = form.querySelector(":scope > .actions");
  if (fields.length < 3 || !actions || form.querySelector(".error")) return;
  const first = new Set(Array.from(fields[0].querySelectorAll("[name]")).map((input) => input.name));
  const chosen = Array.from(new URLSearchParams(window.location.search))
    .some(([name, value]) => value !== "" && !first.has(name) && name !== "page" && name !== "sort");
  if (chosen) return;
  form.classList.add("collapsed");
  const more = document.createElement("button");
  more.type = "button";
  more.className = "more-filters small";
  more.textContent = `更多筛选（${fields.length - 1}）`;
  more.addEventListener("click", () => {
    form.classList.remove("collapsed");
    more.remove();
  });
  actions.appendChild(more);
}
