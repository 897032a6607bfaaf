{% load static %}// The visit page's service worker (issue 20; docs/decisions/0640-offline-visit-capture.md).
// It keeps only the page and its files, so the page opens with no signal. The records themselves live
// in the page's IndexedDB, never here; API calls (/api/) always go to the network.
"use strict";
const CACHE = "zhitongche-offline-v{{ version }}";
const PAGE = "{% url 'channels_citizen:offline_page' %}";
const FILES = [
  PAGE,
  "{% static 'css/portal.css' %}",
  "{% static 'js/portal.js' %}",
  "{% static 'js/offline_visit.js' %}",
  "{% static 'js/offline_logout.js' %}",
  "{% static 'img/favicon.svg' %}",
  "{% url 'channels_citizen:offline_manifest' %}",
];

self.addEventListener("install", (event) => {
  event.waitUntil(caches.open(CACHE).then((cache) => cache.addAll(FILES)).then(() => self.skipWaiting()));
});

self.addEventListener("activate", (event) => {
  event.waitUntil(
    caches.keys()
      .then((names) => Promise.all(
        names.filter((n) => n.startsWith("zhitongche-offline") && n !== CACHE).map((n) => caches.delete(n))))
      .then(() => self.clients.claim()));
});

self.addEventListener("fetch", (event) => {
  const request = event.request;
  const url = new URL(request.url);
  if (request.method !== "GET" || url.origin !== self.location.origin || url.pathname.startsWith("/api/")) return;
  if (url.pathname === PAGE) {
    // Network first: online, the page is always the current one (and a lapsed session shows the
    // login page); with no signal, the copy kept at the last visit.
    event.respondWith(
      fetch(request).then((response) => {
        if (response.ok && !response.redirected) {
          const copy = response.clone();
          caches.open(CACHE).then((cache) => cache.put(PAGE, copy));
        }
        return response;
      }).catch(() => caches.match(PAGE, {ignoreSearch: true})));
    return;
  }
  if (FILES.includes(url.pathname)) {
    // The page's files: from the cache at once, refreshed in the background when online.
    event.respondWith(caches.open(CACHE).then((cache) => cache.match(request).then((cached) => {
      const fresh = fetch(request).then((response) => {
        if (response.ok) cache.put(request, response.clone());
        return response;
      }).catch(() => cached);
      return cached || fresh;
    })));
  }
});
