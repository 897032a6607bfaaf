// The dashboard's charts (templates/feedback/dashboard.html), drawn with Apache ECharts, which the
// portal serves itself (node_modules via feedback/assets.py; never a CDN). The figures come from
// the page's json_script block (#dashboard-data): no inline script, so CSP keeps script-src 'self'.
// Without ECharts the page is complete as it is: every chart has its table, and a note says why
// there are no charts.
document.addEventListener("DOMContentLoaded", () => {
  const source = document.getElementById("dashboard-data");
  const boxes = Array.from(document.querySelectorAll("[data-chart]"));
  if (!source || boxes.length === 0) return;
  if (typeof window.echarts === "undefined") {
    boxes.forEach((box) => { box.hidden = true; });
    if (!document.querySelector("[data-chart-note]:not([hidden])")) {
      document.querySelectorAll("[data-chart-note][hidden]").forEach((note) => { note.hidden = false; });
    }
    return;
  }
  const data = JSON.parse(source.textContent);
  const charts = [];
  const font = '"Noto Sans CJK SC", "Source Han Sans SC", "PingFang SC", "Microsoft YaHei", sans-serif';
  // Tooltips drawn on the canvas (richText), not as HTML: HTML tooltips carry inline styles,
  // which the portal's Content-Security-Policy (style-src 'self') refuses.
  const tooltip = { renderMode: "richText" };
  const percent = (value) => (value === null || value === undefined ? "—" : `${value}%`);

  // Below this width (a phone, or a half-width card on a small screen) a chart's labels have no
  // room beside it: the donut shows a legend instead (see categories below).
  const NARROW = 480;

  // `option` is an option, or a function of `narrow` (the box is narrower than NARROW) giving one;
  // the latter is set again, from scratch, when a resize crosses NARROW.
  const draw = (name, option) => {
    const box = boxes.find((b) => b.dataset.chart === name);
    if (!box) return;
    const chart = window.echarts.init(box, null, { renderer: "canvas" });
    const build = typeof option === "function" ? option : () => option;
    let narrow = null;
    const render = () => {
      const now = box.clientWidth < NARROW;
      if (now === narrow) return;
      narrow = now;
      chart.setOption({ textStyle: { fontFamily: font }, animation: false, ...build(now) }, true);
    };
    render();
    box.dataset.chartReady = "true";
    // Laid out again only when its box changed size: a resize redraws the whole chart (tens of ms),
    // and the browser fires "toggle" for every <details open> the page was parsed with.
    const sizeOf = () => `${box.clientWidth}x${box.clientHeight}`;
    let drawnAt = sizeOf();
    const fit = () => {
      const size = sizeOf();
      if (size === drawnAt) return;
      drawnAt = size;
      chart.resize();
      render();
    };
    charts.push(fit);
  };

  const ranking = (rows) => (narrow) => {
    // Best at the top: ECharts draws a category axis from the bottom up, so reverse.
    const shown = rows.slice().reverse();
    return {
      tooltip: { ...tooltip, trigger: "axis", axisPointer: { type: "shadow" },
        valueFormatter: percent },
      legend: { top: 0, data: ["按期回复率", "回复率"] },
      // containLabel keeps the axis labels in, not the bars' own: the right margin is room for "100%".
      grid: { left: 8, right: 44, top: 30, bottom: 8, containLabel: true },
      // Narrow, the names take half the width: every 20% would crowd out the "100%" at the end.
      xAxis: { type: "value", min: 0, max: 100, interval: narrow ? 50 : 20, axisLabel: { formatter: "{value}%" } },
      yAxis: { type: "category", data: shown.map((r) => r.name) },
      series: [
        { name: "按期回复率", type: "bar", barMaxWidth: 18, data: shown.map((r) => r.on_time_rate),
          itemStyle: { color: "#b22222" },
          label: { show: true, position: "right", formatter: (p) => percent(p.value) } },
        { name: "回复率", type: "bar", barMaxWidth: 18, data: shown.map((r) => r.reply_rate),
          itemStyle: { color: "#9ca3af" } },
      ],
    };
  };

  const sizeFor = (name, rows) => {
    const box = boxes.find((b) => b.dataset.chart === name);
    if (box) box.classList.add(rows > 10 ? "tall" : "short");
  };
  sizeFor("bureaus", data.bureaus.length);
  sizeFor("townships", data.townships.length);

  if (data.bureaus.length) draw("bureaus", ranking(data.bureaus));
  if (data.townships.length) draw("townships", ranking(data.townships));
  if (data.categories.length) {
    const issues = new Map(data.categories.map((c) => [c.name, c.issues]));
    // ECharts' nine colours and five more: the fourteen categories of the reference data each get
    // their own, so that no two slices share one and the legend reads unambiguously.
    const colors = ["#5070dd", "#b6d634", "#505372", "#ff994d", "#0ca8df", "#ffd10a", "#fb628b", "#785db0",
      "#3fbe95", "#c0504d", "#8c6d46", "#9ec5fe", "#2e7d32", "#bdbdbd"];
    const common = { color: colors, tooltip: { ...tooltip, trigger: "item", formatter: "{b}：{c} 件（{d}%）" } };
    const pie = { type: "pie", percentPrecision: 1, data: data.categories.map((c) => ({ name: c.name, value: c.issues })) };
    // Wide, the labels sit beside the donut, on two lines so that a long name (住房和城乡建设) fits
    // instead of being cut to "…". Narrow, a dozen labels cannot fit around it: a legend beside it
    // lists each category with its count (scrolling if it runs out of height), the donut its share.
    draw("categories", (narrow) => (narrow ? {
      ...common,
      legend: { type: "scroll", orient: "vertical", right: 4, top: "middle", itemGap: 6, itemWidth: 14,
        formatter: (name) => `${name} ${issues.get(name)}` },
      series: [{ ...pie, radius: ["28%", "58%"], center: ["29%", "50%"], label: { show: false },
        labelLine: { show: false } }],
    } : {
      ...common,
      series: [{ ...pie, radius: ["35%", "68%"], label: { formatter: "{b}\n{d}%", lineHeight: 15, overflow: "break" } }],
    }));
  }
  if (data.months.length) {
    draw("months", {
      tooltip: { ...tooltip, trigger: "axis" },
      legend: { top: 0, data: ["诉求件数", "回复率", "按期率"] },
      grid: { left: 8, right: 8, top: 36, bottom: 8, containLabel: true },
      xAxis: { type: "category", data: data.months.map((m) => m.month) },
      yAxis: [
        { type: "value", name: "件", minInterval: 1 },
        { type: "value", name: "%", min: 0, max: 100 },
      ],
      series: [
        { name: "诉求件数", type: "bar", barMaxWidth: 40, data: data.months.map((m) => m.issues),
          itemStyle: { color: "#fca5a5" } },
        { name: "回复率", type: "line", yAxisIndex: 1, data: data.months.map((m) => m.reply_rate),
          itemStyle: { color: "#1d4ed8" }, tooltip: { valueFormatter: percent } },
        { name: "按期率", type: "line", yAxisIndex: 1, data: data.months.map((m) => m.on_time_rate),
          itemStyle: { color: "#b22222" }, tooltip: { valueFormatter: percent } },
      ],
    });
  }
  boxes.filter((b) => b.dataset.chartReady !== "true").forEach((box) => { box.hidden = true; });

  // A chart in a section folded on a phone has no size until the section is opened.
  document.querySelectorAll("details[data-fold-phone]").forEach((details) => {
    details.addEventListener("toggle", () => {
      if (details.open) charts.forEach((fit) => fit());
    });
  });

  let pending = null;
  window.addEventListener("resize", () => {
    window.clearTimeout(pending);
    pending = window.setTimeout(() => charts.forEach((fit) => fit()), 150);
  });
});
