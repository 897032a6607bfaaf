// Probable duplicates as the clerk types (issue 19, 并单): the register form asks
// POST /api/v1/issues/similar/ and lists the answers in #similar-panel, each with a
// one-click "并入此件" (a submit button of the same form: merge_into=<ref>). Without
// JavaScript the server shows the same list when the form is saved.
"use strict";

document.addEventListener("DOMContentLoaded", () => {
  const panel = document.getElementById("similar-panel");
  if (!panel) return;
  const form = panel.closest("form");
  const field = (name) => form.querySelector(`[name="${name}"]`);
  const csrf = field("csrfmiddlewaretoken");
  let timer = null;
  let lastBody = "";

  // Confirm before a merge, like the portal's other irreversible buttons.
  form.addEventListener("click", (event) => {
    const button = event.target.closest("button[data-confirm]");
    if (button && !window.confirm(button.dataset.confirm)) event.preventDefault();
  });

  const render = (results) => {
    if (!results.length) { panel.replaceChildren(); return; }
    const box = document.createElement("div");
    box.className = "notice";
    const head = document.createElement("h2");
    head.textContent = "可能重复的诉求";
    const hint = document.createElement("p");
    hint.textContent = "是同一件事请点“并入此件”，由该件统一办理、统一答复；不是同一件事，照常保存即可。";
    const list = document.createElement("ol");
    list.className = "similar-list";
    for (const r of results) {
      const item = document.createElement("li");
      if (r.likely) item.className = "likely";
      const link = document.createElement("a");
      link.href = r.url || "#";
      link.target = "_blank";
      link.rel = "noopener";
      link.textContent = r.issue_ref;
      item.append(link, `《${r.title || ""}》 `);
      if (r.likely) {
        const tag = document.createElement("span");
        tag.className = "tag warn";
        tag.textContent = "很可能重复";
        item.append(tag, " ");
      }
      const why = document.createElement("span");
      why.className = "muted";
      why.textContent = `相似度 ${r.score.toFixed(2)} · ${r.reasons.join("；")} `;
      const merge = document.createElement("button");
      merge.type = "submit";
      merge.name = "merge_into";
      merge.value = r.issue_ref;
      merge.dataset.confirm = `确定把本次登记的诉求并入 ${r.issue_ref}？由该件统一办理，本次填写的交办单位不再使用。`;
      merge.textContent = "并入此件";
      item.append(why, merge);
      list.append(item);
    }
    box.append(head, hint, list);
    panel.replaceChildren(box);
  };

  const ask = async () => {
    const title = field("title").value.trim();
    const content = field("content").value.trim();
    if (title.length + content.length < 6) { render([]); return; }
    const body = JSON.stringify({
      title, content,
      channel: field("channel") ? field("channel").value : "",
      requester_phone: field("requester_phone") ? field("requester_phone").value.trim() : "",
    });
    if (body === lastBody) return;
    lastBody = body;
    try {
      const response = await fetch(panel.dataset.api, {
        method: "POST",
        credentials: "same-origin",
        headers: { "Content-Type": "application/json", "X-CSRFToken": csrf.value, Accept: "application/json" },
        body,
      });
      if (response.ok) render((await response.json()).results);
    } catch (error) {
      // The server checks again when the form is saved; a failed hint must not stop the clerk.
    }
  };

  for (const name of ["title", "content", "requester_phone"]) {
    const input = field(name);
    if (input) input.addEventListener("input", () => { clearTimeout(timer); timer = setTimeout(ask, 600); });
  }
});
