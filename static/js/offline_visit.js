// 下访离线登记 (issue 20): record a visit and its requests with no signal, sync when it returns.
//
// Everything typed is written at once to IndexedDB, in a database of the logged-in user
// ("zhitongche-offline-<user id>"; cleared at logout by offline_logout.js), so closing the app or
// restarting the phone loses nothing. Each record carries a key generated here when it is captured;
// the server creates a record once per key (POST /api/v1/citizen/visit-sync/), so a retry after a
// lost answer or a double tap never makes a duplicate. A refused record stays with the server's
// reason until it is corrected. Text only: nothing from a record or the server goes into innerHTML.
"use strict";

const MAX_PHOTOS = 6;
const PHOTO_SIDE = 1600; // pixels on the long side: legible, and ~200–400 KB as JPEG
const PHOTO_QUALITY = 0.8;
const STATUS = { pending: "待同步", refused: "被退回", synced: "已同步" };

// --- IndexedDB ----------------------------------------------------------------------------------------

function openStore(user) {
  return new Promise((resolve, reject) => {
    const request = indexedDB.open(`zhitongche-offline-${user}`, 1);
    request.onupgradeneeded = () => {
      const db = request.result;
      db.createObjectStore("records", { keyPath: "key" });
      db.createObjectStore("pack");
    };
    request.onsuccess = () => resolve(request.result);
    request.onerror = () => reject(request.error);
  });
}

function inTransaction(db, store, mode, work) {
  return new Promise((resolve, reject) => {
    // "strict": the write is on disk before we say it is saved (a phone may be switched off next).
    const tx = db.transaction(store, mode, { durability: "strict" });
    let result;
    tx.oncomplete = () => resolve(result);
    tx.onerror = tx.onabort = () => reject(tx.error);
    const request = work(tx.objectStore(store));
    if (request) request.onsuccess = () => { result = request.result; };
  });
}

function newKey() {
  if (crypto.randomUUID) return crypto.randomUUID();
  const b = crypto.getRandomValues(new Uint8Array(16));
  b[6] = (b[6] & 0x0f) | 0x40;
  b[8] = (b[8] & 0x3f) | 0x80;
  const h = Array.from(b, (x) => x.toString(16).padStart(2, "0")).join("");
  return `${h.slice(0, 8)}-${h.slice(8, 12)}-${h.slice(12, 16)}-${h.slice(16, 20)}-${h.slice(20)}`;
}

// --- photos ----------------------------------------------------------------------------------------

async function compress(file) {
  const bitmap = await createImageBitmap(file);
  const scale = Math.min(1, PHOTO_SIDE / Math.max(bitmap.width, bitmap.height));
  const canvas = document.createElement("canvas");
  canvas.width = Math.max(1, Math.round(bitmap.width * scale));
  canvas.height = Math.max(1, Math.round(bitmap.height * scale));
  canvas.getContext("2d").drawImage(bitmap, 0, 0, canvas.width, canvas.height);
  bitmap.close();
  return new Promise((resolve, reject) => {
    canvas.toBlob((blob) => (blob ? resolve(blob) : reject(new Error("compress"))), "image/jpeg", PHOTO_QUALITY);
  });
}

// --- the page ----------------------------------------------------------------------------------------

function el(tag, text, attrs) {
  const node = document.createElement(tag);
  if (text !== undefined && text !== null) node.textContent = text;
  Object.entries(attrs || {}).forEach(([k, v]) => node.setAttribute(k, v));
  return node;
}

function fill(select, items, value, label, keepFirst) {
  const first = keepFirst ? select.options[0] : null;
  select.replaceChildren(...(first ? [first] : []));
  items.forEach((item) => select.append(el("option", label(item), { value: String(value(item)) })));
}

function errorText(body) {
  if (!body || typeof body !== "object") return "服务器拒绝了该记录。";
  const parts = [];
  const walk = (v) => {
    if (Array.isArray(v)) v.forEach(walk);
    else if (v && typeof v === "object") Object.values(v).forEach(walk);
    else if (v !== undefined && v !== null) parts.push(String(v));
  };
  walk(body);
  return parts.join("；") || "服务器拒绝了该记录。";
}

class OfflineVisits {
  constructor(root) {
    this.root = root;
    this.user = root.dataset.user;
    this.syncing = false;
    this.pack = null;
    this.records = [];
    this.editing = { visit: null, request: null };
    this.visitForm = root.querySelector("[data-visit-form]");
    this.requestForm = root.querySelector("[data-request-form]");
  }

  $(selector) { return this.root.querySelector(selector); }

  say(text, kind) {
    const box = this.$("[data-app-status]");
    box.hidden = !text;
    box.textContent = text || "";
    box.className = kind === "error" ? "errors" : "notice";
  }

  async start() {
    this.db = await openStore(this.user);
    this.pack = await inTransaction(this.db, "pack", "readonly", (s) => s.get("pack"));
    await this.reload();
    this.showPack();
    this.bind();
    this.showNetwork();
    this.registerWorker();
    if (navigator.onLine && !this.pack) this.download();
    else if (navigator.onLine && this.unsent().length) this.sync();
  }

  registerWorker() {
    const status = this.$("[data-sw-status]");
    if (!("serviceWorker" in navigator)) {
      status.textContent = "此浏览器不支持离线使用，请用手机自带浏览器或 Chrome 打开。";
      return;
    }
    navigator.serviceWorker.register(this.root.dataset.swUrl, { scope: this.root.dataset.scope })
      .then(() => navigator.serviceWorker.ready)
      .then(() => {
        const ready = () => { status.textContent = "本页已可离线使用：没有信号时也能打开本页登记。"; status.dataset.ready = "1"; };
        if (navigator.serviceWorker.controller) ready();
        else navigator.serviceWorker.addEventListener("controllerchange", ready, { once: true });
      })
      .catch(() => { status.textContent = "离线功能未能启用，请在有网络时刷新本页。"; });
  }

  showNetwork() {
    const box = this.$("[data-net-status]");
    box.textContent = navigator.onLine ? "● 在线" : "○ 无网络：记录保存在手机上，恢复信号后同步";
    box.dataset.online = navigator.onLine ? "1" : "0";
  }

  bind() {
    window.addEventListener("online", () => { this.showNetwork(); if (this.unsent().length) this.sync(); });
    window.addEventListener("offline", () => this.showNetwork());
    this.$('[data-action="download"]').addEventListener("click", () => this.download());
    this.$('[data-action="sync"]').addEventListener("click", () => this.sync());
    this.$('[data-action="clear-synced"]').addEventListener("click", () => this.clearSynced());
    this.visitForm.addEventListener("submit", (e) => { e.preventDefault(); this.saveVisit(); });
    this.requestForm.addEventListener("submit", (e) => { e.preventDefault(); this.saveRequest(); });
    this.visitForm.querySelector('[data-action="cancel-edit"]').addEventListener("click", () => this.endEdit("visit"));
    this.requestForm.querySelector('[data-action="cancel-edit"]').addEventListener("click", () => this.endEdit("request"));
    const v = this.visitForm.elements;
    v.week.addEventListener("change", () => this.weekChosen());
    v.township.addEventListener("change", () => this.townshipChosen());
    const r = this.requestForm.elements;
    r.visit_key.addEventListener("change", () => this.requestVisitChosen());
    r.nature.addEventListener("change", () => this.natureChosen());
    r.photos.addEventListener("change", () => {
      const n = r.photos.files.length;
      this.$("[data-photo-info]").textContent = n ? `已选 ${n} 张照片，保存时压缩。` : "";
    });
  }

  // --- the pack downloaded before leaving ---

  async download() {
    this.say("正在下载资料…");
    let response;
    try {
      response = await fetch(this.root.dataset.packUrl, { credentials: "same-origin", headers: { Accept: "application/json" } });
    } catch (error) {
      this.say("当前无网络，无法下载资料；已下载的资料仍可使用。", "error");
      return;
    }
    if (!response.ok || !(response.headers.get("Content-Type") || "").includes("json")) {
      this.needLogin(response);
      return;
    }
    const pack = await response.json();
    if (String(pack.user.id) !== String(this.user)) {
      this.say("当前登录的账号与本页不一致，请刷新本页。", "error");
      return;
    }
    await inTransaction(this.db, "pack", "readwrite", (s) => s.put(pack, "pack"));
    this.pack = pack;
    if (navigator.storage && navigator.storage.persist) navigator.storage.persist();
    this.showPack();
    this.say(`资料已下载：${pack.weeks.length} 个无会周、${pack.villages.length} 个村、${pack.cases.length} 件带案下访诉求。`);
  }

  showPack() {
    const info = this.$("[data-pack-info]");
    if (!this.pack) { info.textContent = "尚未下载资料：请在有网络时下载。"; return; }
    const at = new Date(this.pack.generated_at);
    info.textContent = `资料更新于 ${at.toLocaleString("zh-CN", { hour12: false })}`;
    const v = this.visitForm.elements;
    fill(v.week, this.pack.weeks, (w) => w.id, (w) => `${w.label}（${w.starts_on} 至 ${w.ends_on}）`);
    fill(v.township, this.pack.townships, (t) => t.code, (t) => t.name);
    fill(v.leader, this.pack.leaders, (l) => l.id, (l) => l.name, true);
    const r = this.requestForm.elements;
    fill(r.category, this.pack.categories, (c) => c.code, (c) => c.name);
    fill(r.nature, this.pack.natures, (n) => n.code, (n) => n.name);
    r.nature.value = "help";
    fill(r.accused_department, this.pack.departments, (d) => d.code, (d) => d.name, true);
    this.weekChosen();
    this.showVisitChoices();
  }

  weekChosen() {
    if (!this.pack) return;
    const v = this.visitForm.elements;
    const week = this.pack.weeks.find((w) => String(w.id) === v.week.value);
    if (!week) return;
    v.held_on.value = clampDate(todayIso(), week);
    v.held_on.min = week.starts_on;
    v.held_on.max = week.ends_on;
    if (week.roster.length) v.township.value = week.roster[0].township;
    this.townshipChosen();
  }

  townshipChosen() {
    if (!this.pack) return;
    const v = this.visitForm.elements;
    const code = v.township.value;
    const villages = this.pack.villages.filter((x) => x.township === code);
    fill(v.village, villages, (x) => x.id, (x) => x.name, true);
    const week = this.pack.weeks.find((w) => String(w.id) === v.week.value);
    const entry = week && week.roster.find((e) => e.township === code);
    if (entry) v.leader.value = String(entry.leader);
    const box = this.$("[data-cases]");
    const cases = this.pack.cases.filter((c) => c.township === code);
    if (!cases.length) { box.replaceChildren(el("p", "本乡镇没有未办结的诉求。", { class: "muted" })); return; }
    box.replaceChildren(...cases.map((c) => {
      const label = el("label", null, { class: "check" });
      const box2 = el("input", null, { type: "checkbox", name: "cases", value: String(c.id) });
      label.append(box2, ` ${c.ref} ${c.title}（${c.status}）`);
      return label;
    }));
  }

  // --- capture ---

  formError(form, text) {
    const box = form.querySelector("[data-form-error]");
    box.hidden = !text;
    box.textContent = text || "";
  }

  visitData() {
    const v = this.visitForm.elements;
    const attendance = v.meeting_attendance.value.trim();
    const outcome = v.meeting_outcome.value.trim();
    const place = v.meeting_place.value.trim();
    return {
      week: Number(v.week.value),
      visit_kind: v.visit_kind.value,
      township: v.township.value,
      village: v.village.value ? Number(v.village.value) : null,
      held_on: v.held_on.value,
      leader: v.leader.value ? Number(v.leader.value) : null,
      cases: Array.from(this.visitForm.querySelectorAll('input[name="cases"]:checked'), (c) => Number(c.value)),
      lawyer_present: v.lawyer_present.checked,
      lawyer_name: v.lawyer_name.value.trim(),
      notes: v.notes.value.trim(),
      meetings: attendance || outcome || place ? [{ place, attendance: Number(attendance) || 0, outcome }] : [],
    };
  }

  async saveVisit() {
    if (!this.pack) { this.formError(this.visitForm, "请先在有网络时下载资料。"); return; }
    const data = this.visitData();
    if (!data.week || !data.township || !data.held_on) { this.formError(this.visitForm, "请选择无会周、乡镇并填写接访日期。"); return; }
    if (data.visit_kind === "village" && !data.village) { this.formError(this.visitForm, "进村走访须选择村。"); return; }
    this.formError(this.visitForm, "");
    const editing = this.editing.visit;
    const record = editing || { key: newKey(), kind: "visit", createdAt: new Date().toISOString() };
    Object.assign(record, { data, status: "pending", reason: "", label: this.visitLabel(data) });
    await this.put(record);
    this.endEdit("visit");
    this.showVisitChoices(record.key);
    this.say(`已保存：${record.label}。`);
    if (navigator.onLine && editing) this.sync();
  }

  visitLabel(data) {
    const township = (this.pack.townships.find((t) => t.code === data.township) || {}).name || data.township;
    const village = data.village ? (this.pack.villages.find((x) => x.id === data.village) || {}).name || "" : "";
    const kind = data.visit_kind === "village" ? "进村走访" : "乡镇集中接访";
    return `${data.held_on} ${township}${village} ${kind}`;
  }

  showVisitChoices(chosen) {
    const select = this.requestForm.elements.visit_key;
    const previous = chosen || select.value;
    const visits = this.records.filter((r) => r.kind === "visit").sort((a, b) => b.createdAt.localeCompare(a.createdAt));
    fill(select, visits, (r) => r.key, (r) => r.label + (r.status === "synced" ? "（已同步）" : ""));
    if (!visits.length) select.append(el("option", "请先登记接访活动", { value: "" }));
    if (previous && visits.some((r) => r.key === previous)) select.value = previous;
    this.requestVisitChosen();
  }

  requestVisitChosen() {
    if (!this.pack) return;
    const r = this.requestForm.elements;
    const visit = this.records.find((x) => x.key === r.visit_key.value);
    const villages = visit ? this.pack.villages.filter((x) => x.township === visit.data.township) : [];
    const keep = r.village.value;
    fill(r.village, villages, (x) => x.id, (x) => x.name, true);
    if (visit && visit.data.village && !keep) r.village.value = String(visit.data.village);
    else if (keep) r.village.value = keep;
  }

  natureChosen() {
    const r = this.requestForm.elements;
    const accusation = r.nature.value === "complaint" || r.nature.value === "report";
    this.$("[data-accused]").hidden = !accusation;
    if (!accusation) r.accused_department.value = "";
  }

  async saveRequest() {
    const r = this.requestForm.elements;
    if (!r.visit_key.value) { this.formError(this.requestForm, "请先登记接访活动。"); return; }
    if (!r.requester_name.value.trim() || !r.content.value.trim() || !r.category.value) {
      this.formError(this.requestForm, "请填写诉求人、分类和诉求内容。");
      return;
    }
    const editing = this.editing.request;
    const kept = editing ? editing.photos || [] : [];
    if (kept.length + r.photos.files.length > MAX_PHOTOS) { this.formError(this.requestForm, `每件诉求最多 ${MAX_PHOTOS} 张照片。`); return; }
    let photos;
    try {
      photos = [...kept, ...(await Promise.all(Array.from(r.photos.files, compress)))];
    } catch (error) {
      this.formError(this.requestForm, "照片无法读取，请重新拍摄或选择。");
      return;
    }
    this.formError(this.requestForm, "");
    const data = {
      visit_key: r.visit_key.value,
      requester_name: r.requester_name.value.trim(),
      requester_phone: r.requester_phone.value.trim(),
      village: r.village.value ? Number(r.village.value) : null,
      category: r.category.value,
      nature: r.nature.value,
      accused_department: r.accused_department.value,
      title: r.title.value.trim(),
      content: r.content.value.trim(),
    };
    const record = editing || { key: newKey(), kind: "request", createdAt: new Date().toISOString() };
    const label = `${data.requester_name}：${(data.title || data.content).slice(0, 20)}`;
    Object.assign(record, { data, photos, status: "pending", reason: "", label });
    await this.put(record);
    this.endEdit("request");
    this.say(`已保存诉求：${label}（${photos.length} 张照片）。`);
    if (navigator.onLine && editing) this.sync();
  }

  edit(record) {
    const form = record.kind === "visit" ? this.visitForm : this.requestForm;
    this.editing[record.kind] = record;
    form.querySelector("[data-visit-editing], [data-request-editing]").hidden = false;
    form.querySelector('[data-action="cancel-edit"]').hidden = false;
    const f = form.elements;
    const d = record.data;
    if (record.kind === "visit") {
      f.week.value = String(d.week);
      this.weekChosen();
      f.visit_kind.value = d.visit_kind;
      f.township.value = d.township;
      this.townshipChosen();
      f.village.value = d.village ? String(d.village) : "";
      f.held_on.value = d.held_on;
      f.leader.value = d.leader ? String(d.leader) : "";
      form.querySelectorAll('input[name="cases"]').forEach((c) => { c.checked = d.cases.includes(Number(c.value)); });
      f.lawyer_present.checked = d.lawyer_present;
      f.lawyer_name.value = d.lawyer_name;
      f.notes.value = d.notes;
      const m = d.meetings[0] || { place: "", attendance: "", outcome: "" };
      f.meeting_place.value = m.place;
      f.meeting_attendance.value = m.attendance || "";
      f.meeting_outcome.value = m.outcome;
    } else {
      f.visit_key.value = d.visit_key;
      this.requestVisitChosen();
      ["requester_name", "requester_phone", "category", "nature", "accused_department", "title", "content"]
        .forEach((name) => { f[name].value = d[name]; });
      f.village.value = d.village ? String(d.village) : "";
      this.natureChosen();
      this.$("[data-photo-info]").textContent = `已保存 ${record.photos.length} 张照片，可再添加。`;
    }
    form.scrollIntoView();
  }

  endEdit(kind) {
    const form = kind === "visit" ? this.visitForm : this.requestForm;
    this.editing[kind] = null;
    form.querySelector("[data-visit-editing], [data-request-editing]").hidden = true;
    form.querySelector('[data-action="cancel-edit"]').hidden = true;
    if (kind === "visit") {
      ["notes", "lawyer_name", "meeting_place", "meeting_attendance", "meeting_outcome"].forEach((n) => { form.elements[n].value = ""; });
      form.elements.lawyer_present.checked = false;
      form.querySelectorAll('input[name="cases"]').forEach((c) => { c.checked = false; });
    } else {
      ["requester_name", "requester_phone", "title", "content"].forEach((n) => { form.elements[n].value = ""; });
      form.elements.photos.value = "";
      this.$("[data-photo-info]").textContent = "";
    }
  }

  // --- the list ---

  async put(record) {
    await inTransaction(this.db, "records", "readwrite", (s) => s.put(record));
    await this.reload();
  }

  async reload() {
    const all = await inTransaction(this.db, "records", "readonly", (s) => s.getAll());
    this.records = (all || []).sort((a, b) => a.createdAt.localeCompare(b.createdAt));
    this.showRecords();
  }

  unsent() { return this.records.filter((r) => r.status !== "synced"); }

  showRecords() {
    const count = (status) => this.records.filter((r) => r.status === status).length;
    const pending = count("pending");
    const refused = count("refused");
    const synced = count("synced");
    const summary = this.$("[data-summary]");
    summary.dataset.pending = String(pending);
    summary.dataset.refused = String(refused);
    summary.textContent = this.records.length
      ? `待同步 ${pending} 条，被退回 ${refused} 条，已同步 ${synced} 条。`
      : "手机上没有登记记录。";
    const list = this.$("[data-records]");
    list.replaceChildren(...this.records.map((record) => {
      const item = el("li", null, { "data-record": record.key, "data-status": record.status, "data-kind": record.kind });
      const title = el("span", `${record.kind === "visit" ? "接访活动" : "诉求"}：${record.label}`);
      const photos = record.kind === "request" ? `（${(record.photos || []).length} 张照片）` : "";
      item.append(el("span", STATUS[record.status], { class: `badge status-${record.status}` }), " ", title, photos);
      if (record.status === "synced" && record.answer) {
        const ref = record.answer.issue ? ` 编号 ${record.answer.issue.ref}` : "";
        item.append(el("span", `已上传${ref}`, { class: "muted", "data-answer": "" }));
      }
      if (record.status === "refused") {
        item.append(el("div", `退回原因：${record.reason}`, { class: "errors", "data-reason": "" }));
      } else if (record.status === "pending" && record.reason) {
        item.append(el("div", record.reason, { class: "muted", "data-reason": "" }));
      }
      if (record.status !== "synced") {
        const actions = el("div", null, { class: "actions" });
        const change = el("button", "修改", { type: "button", class: "button" });
        change.addEventListener("click", () => this.edit(record));
        const drop = el("button", "删除", { type: "button", class: "button" });
        drop.addEventListener("click", () => this.drop(record));
        actions.append(change, " ", drop);
        item.append(actions);
      }
      return item;
    }));
  }

  async drop(record) {
    if (!window.confirm(`删除“${record.label}”？删除后无法恢复。`)) return;
    await inTransaction(this.db, "records", "readwrite", (s) => s.delete(record.key));
    await this.reload();
    this.showVisitChoices();
  }

  async clearSynced() {
    const synced = this.records.filter((r) => r.status === "synced");
    // A synced visit stays while its requests wait: they name it by its key.
    const needed = new Set(this.unsent().filter((r) => r.kind === "request").map((r) => r.data.visit_key));
    await inTransaction(this.db, "records", "readwrite", (s) => {
      synced.filter((r) => !needed.has(r.key)).forEach((r) => s.delete(r.key));
    });
    await this.reload();
    this.showVisitChoices();
  }

  // --- sync ---

  needLogin(response) {
    if (response && response.status >= 500) {
      this.say("服务器暂时无法接收，记录仍保存在手机上，请稍后再同步。", "error");
      return;
    }
    const box = this.$("[data-app-status]");
    this.say("请重新登录后同步（记录仍保存在手机上，不会丢失）。", "error");
    box.append(" ", el("a", "去登录", { href: this.root.dataset.loginUrl }));
  }

  async sync() {
    if (this.syncing) return; // a double tap: one run at a time (and the server keys each record)
    const button = this.$('[data-action="sync"]');
    this.syncing = true;
    button.disabled = true;
    try {
      await this.syncAll();
    } finally {
      this.syncing = false;
      button.disabled = false;
    }
  }

  async syncAll() {
    const pending = this.records.filter((r) => r.status === "pending");
    if (!pending.length) { this.say(this.unsent().length ? "被退回的记录请先修改。" : "没有需要同步的记录。"); return; }
    let who;
    try {
      who = await fetch(this.root.dataset.syncUrl, { credentials: "same-origin", headers: { Accept: "application/json" } });
    } catch (error) {
      this.say("当前无网络，记录仍保存在手机上，恢复信号后再同步。", "error");
      return;
    }
    if (!who.ok || !(who.headers.get("Content-Type") || "").includes("json")) { this.needLogin(who); return; }
    const session = await who.json();
    if (String(session.user) !== String(this.user)) {
      this.say("当前登录的不是登记人的账号，请用登记人的账号登录后同步。", "error");
      return;
    }
    this.say(`正在同步 ${pending.length} 条记录…`);
    // Visits first: a request names its visit by the visit's key.
    const ordered = [...pending.filter((r) => r.kind === "visit"), ...pending.filter((r) => r.kind === "request")];
    let sent = 0;
    for (const record of ordered) {
      if (record.kind === "request") {
        const visit = this.records.find((r) => r.key === record.data.visit_key);
        if (!visit || visit.status !== "synced") {
          record.reason = "等待所属接访活动同步成功后再上传。";
          await this.put(record);
          continue;
        }
      }
      const body = new FormData();
      body.append("key", record.key);
      body.append("kind", record.kind);
      body.append("data", JSON.stringify(record.data));
      (record.photos || []).forEach((blob, i) => body.append("photos", blob, `photo-${i + 1}.jpg`));
      let response;
      try {
        response = await fetch(this.root.dataset.syncUrl, {
          method: "POST",
          credentials: "same-origin",
          headers: { "X-CSRFToken": session.csrf_token, Accept: "application/json" },
          body,
        });
      } catch (error) {
        this.say(`网络中断：已同步 ${sent} 条，其余记录仍保存在手机上，恢复信号后再同步。`, "error");
        return;
      }
      let answer = null;
      try { answer = await response.json(); } catch (error) { answer = null; }
      if (response.ok) {
        Object.assign(record, { status: "synced", reason: "", answer, syncedAt: new Date().toISOString() });
        sent += 1;
      } else if (response.status === 400) {
        Object.assign(record, { status: "refused", reason: errorText(answer) });
      } else {
        this.needLogin(response);
        return;
      }
      await this.put(record);
    }
    const refused = this.records.filter((r) => r.status === "refused").length;
    this.showVisitChoices();
    this.say(refused ? `已同步 ${sent} 条；${refused} 条被退回，请按原因修改后再同步。` : `已同步 ${sent} 条记录。`);
  }
}

function todayIso() {
  const now = new Date();
  return new Date(now.getTime() - now.getTimezoneOffset() * 60000).toISOString().slice(0, 10);
}

function clampDate(day, week) {
  if (day < week.starts_on) return week.starts_on;
  if (day > week.ends_on) return week.ends_on;
  return day;
}

document.addEventListener("DOMContentLoaded", () => {
  const root = document.getElementById("offline-app");
  if (!root) return;
  if (!window.indexedDB) {
    root.querySelector("[data-app-status]").hidden = false;
    root.querySelector("[data-app-status]").textContent = "此浏览器不能在手机上保存记录，无法离线登记。";
    return;
  }
  const app = new OfflineVisits(root);
  window.offlineVisits = app; // for the browser tests and for support on the phone (console)
  app.start().catch(() => {
    root.querySelector("[data-app-status]").hidden = false;
    root.querySelector("[data-app-status]").textContent = "无法打开手机上的离线记录，请刷新本页。";
  });
});
