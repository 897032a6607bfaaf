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

  const draw = (name, option) => {
    const box = boxes.find((b) => b.dataset.chart === name);
    if (!box) return;
    const chart = window.echarts.init(box, null, { renderer: "canvas" });
    chart.setOption({ textStyle: { fontFamily: font }, animation: false, ...option });
    box.dataset.chartReady = "true";
    charts.push(chart);
  };

  const ranking = (rows) => {
    // Best at the top: ECharts draws a category axis from the bottom up, so reverse.
    const shown = rows.slice().reverse();
    return {
      tooltip: { ...tooltip, trigger: "axis", axisPointer: { type: "shadow" },
        valueFormatter: percent },
      legend: { top: 0, data: ["按期办结率", "回复率"] },
      grid: { left: 8, right: 24, top: 30, bottom: 8, containLabel: true },
      xAxis: { type: "value", min: 0, max: 100, axisLabel: { formatter: "{value}%" } },
      yAxis: { type: "category", data: shown.map((r) => r.name) },
      series: [
        { name: "按期办结率", type: "bar", barMaxWidth: 18, data: shown.map((r) => r.on_time_rate),
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
    draw("categories", {
      tooltip: { ...tooltip, trigger: "item", formatter: "{b}：{c} 件（{d}%）" },
      series: [{
        type: "pie", radius: ["35%", "68%"], percentPrecision: 1, data: data.categories.map((c) => ({ name: c.name, value: c.issues })),
        label: { formatter: "{b} {d}%" },
      }],
    });
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

  let pending = null;
  window.addEventListener("resize", () => {
    window.clearTimeout(pending);
    pending = window.setTimeout(() => charts.forEach((chart) => chart.resize()), 150);
  });
});
