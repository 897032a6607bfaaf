// The 无访村 trend on /citizen/villages/ (templates/channels/citizen_villages.html), drawn with
// Apache ECharts served by the portal itself (feedback/assets.py). The figures come from the
// page's json_script block (#citizen-quiet-data): no inline script, so CSP keeps script-src 'self'.
// Without ECharts the table above the chart is the whole story and the chart box is hidden.
document.addEventListener("DOMContentLoaded", () => {
  const source = document.getElementById("citizen-quiet-data");
  const box = document.querySelector('[data-chart="quiet"]');
  if (!source || !box) return;
  if (typeof window.echarts === "undefined") {
    box.hidden = true;
    return;
  }
  const data = JSON.parse(source.textContent);
  const chart = window.echarts.init(box, null, { renderer: "canvas" });
  chart.setOption({
    animation: false,
    textStyle: { fontFamily: '"Noto Sans CJK SC", "Source Han Sans SC", "PingFang SC", "Microsoft YaHei", sans-serif' },
    // Tooltips drawn on the canvas: HTML tooltips carry inline styles, which CSP (style-src 'self') refuses.
    tooltip: { renderMode: "richText", trigger: "axis" },
    legend: { top: 0, data: ["无访村", "村总数"] },
    grid: { left: 8, right: 8, top: 36, bottom: 8, containLabel: true },
    xAxis: { type: "category", data: data.years },
    yAxis: { type: "value", name: "个", minInterval: 1 },
    series: [
      { name: "无访村", type: "bar", barMaxWidth: 40, data: data.quiet, itemStyle: { color: "#15803d" },
        label: { show: true, position: "top" } },
      { name: "村总数", type: "line", data: data.villages, itemStyle: { color: "#9ca3af" } },
    ],
  });
  let pending = null;
  window.addEventListener("resize", () => {
    window.clearTimeout(pending);
    pending = window.setTimeout(() => chart.resize(), 150);
  });
});
