// At logout, the visit page's offline data leaves the phone (issue 20): every IndexedDB database of
// the offline visit page, its cache and its service worker. Records not yet synced are named first,
// so nobody loses a visit by tapping 退出 by mistake. A session that merely expires keeps everything
// (re-login, then sync): only this explicit logout clears.
"use strict";
(function () {
  const PREFIX = "zhitongche-offline";

  function countUnsynced(name) {
    return new Promise((resolve) => {
      const open = indexedDB.open(name);
      open.onerror = () => resolve(0);
      open.onsuccess = () => {
        const db = open.result;
        if (!db.objectStoreNames.contains("records")) { db.close(); resolve(0); return; }
        const all = db.transaction("records").objectStore("records").getAll();
        all.onsuccess = () => { db.close(); resolve(all.result.filter((r) => r.status !== "synced").length); };
        all.onerror = () => { db.close(); resolve(0); };
      };
    });
  }

  function remove(name) {
    return new Promise((resolve) => {
      const request = indexedDB.deleteDatabase(name);
      request.onsuccess = request.onerror = request.onblocked = () => resolve();
    });
  }

  async function offlineDatabases() {
    if (!window.indexedDB || !indexedDB.databases) return [];
    const all = await indexedDB.databases();
    return all.map((d) => d.name).filter((n) => n && n.startsWith(PREFIX));
  }

  async function clearAll(names) {
    await Promise.all(names.map(remove));
    if (window.caches) {
      const keys = await caches.keys();
      await Promise.all(keys.filter((k) => k.startsWith(PREFIX)).map((k) => caches.delete(k)));
    }
    if (navigator.serviceWorker) {
      const registrations = await navigator.serviceWorker.getRegistrations();
      await Promise.all(registrations.filter((r) => r.scope.includes("/citizen/offline/")).map((r) => r.unregister()));
    }
  }

  // Another person signed in on this phone (the last one never tapped 退出): the visit page kept for
  // offline use is theirs — it would open their records with no signal. It is dropped at once (this
  // script runs on every page after a login, which needs the network); their records stay in their own
  // database, for them to sync at their next login, and the new user's page is fetched fresh online.
  const CURRENT_USER = document.currentScript && document.currentScript.dataset.user;

  async function forgetOtherUsersPage() {
    if (!window.caches || !CURRENT_USER) return;
    const keys = (await caches.keys()).filter((k) => k.startsWith(PREFIX));
    for (const key of keys) {
      const cache = await caches.open(key);
      const page = await cache.match("/citizen/offline/", {ignoreSearch: true});
      if (!page) continue;
      const owner = /data-user="(\d+)"/.exec(await page.text());
      if (!owner || owner[1] !== String(CURRENT_USER)) await caches.delete(key);
    }
  }

  // Most people never use the visit page: for them 退出 stays an ordinary, immediate logout. Known
  // once, just after the page loads (a few milliseconds); until then a logout waits for the check.
  let nothingOffline = false;

  async function anythingOffline() {
    if ((await offlineDatabases()).length) return true;
    if (window.caches && (await caches.keys()).some((k) => k.startsWith(PREFIX))) return true;
    if (navigator.serviceWorker) {
      const registrations = await navigator.serviceWorker.getRegistrations();
      if (registrations.some((r) => r.scope.includes("/citizen/offline/"))) return true;
    }
    return false;
  }

  forgetOtherUsersPage()
    .then(anythingOffline)
    // On the visit page itself records may be written after this check: there it is always made at 退出.
    .then((found) => { nothingOffline = !found && !location.pathname.startsWith("/citizen/offline/"); })
    .catch(() => {});

  document.addEventListener("DOMContentLoaded", () => {
    document.querySelectorAll('form[action$="/accounts/logout/"]').forEach((form) => {
      form.addEventListener("submit", async (event) => {
        if (form.dataset.offlineCleared || nothingOffline) return;
        event.preventDefault();
        try {
          const names = await offlineDatabases();
          const counts = await Promise.all(names.map(countUnsynced));
          const unsynced = counts.reduce((a, b) => a + b, 0);
          if (unsynced && !window.confirm(`手机上还有 ${unsynced} 条下访登记未同步，退出后将被删除。确定退出吗？`)) return;
          await clearAll(names);
        } catch (error) {
          // Logging out must never be blocked by the offline store.
        }
        form.dataset.offlineCleared = "1";
        form.submit();
      });
    });
  });
})();
