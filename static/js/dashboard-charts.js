/* Dashboard charts: draws the trend, breakdown and league charts from the page's #dashboard-data JSON
   (Django json_script) with the vendored Apache ECharts, SVG renderer so they print sharply.
   Each series says whether it is a percentage ("percent", from the indicator's declaration).
   Progressive enhancement: without ECharts, data or a container, nothing happens and the tables remain. */
(function () {
  "use strict";

  var FONT = "system-ui, 'Noto Sans CJK SC', sans-serif";
  var PALETTE = ["#1a5aa6", "#7a9cc6", "#5b7083", "#a3b8cc", "#8c6d46", "#b4a7d6"];
  var MEANING = [[/overdue|late|alarm|risk/, "#d64545"], [/pending|warn|remind/, "#d9a400"],
    [/closed|resolved|done|ontime|on_time|solved/, "#2e9d5b"]];

  function isPercent(series) { return series.percent === true; }

  function fmt(value, percent) {
    if (value === null || value === undefined || value === "-" || isNaN(value)) return "—";
    return percent ? (value * 100).toFixed(1).replace(/\.0$/, "") + "%" : Number(value).toLocaleString("zh-CN");
  }

  function colour(series, i) {
    var key = (series.key || "").toLowerCase();
    for (var m = 0; m < MEANING.length; m++) if (MEANING[m][0].test(key)) return MEANING[m][1];
    return PALETTE[i % PALETTE.length];
  }

  function valueAxis(percent, extra) {
    return Object.assign({ type: "value", minInterval: percent ? 0 : 1, max: percent ? function (v) { return Math.max(1, v.max); } : null,
      axisLabel: { formatter: function (v) { return fmt(v, percent); } }, splitLine: { lineStyle: { color: "#e5e8ec" } } }, extra || {});
  }

  function hasSeries(part, axisKey) {
    return !!(part && Array.isArray(part[axisKey]) && part[axisKey].length && Array.isArray(part.series) &&
      part.series.some(function (s) { return Array.isArray(s.values) && s.values.length; }));
  }

  // Line per series over periods; if counts and rates are mixed, the rates get their own right-hand axis.
  function trendOption(trend) {
    if (!hasSeries(trend, "periods")) return null;
    var pct = trend.series.map(isPercent);
    var mixed = pct.indexOf(true) >= 0 && pct.indexOf(false) >= 0;
    return {
      legend: { top: 0 }, tooltip: { trigger: "axis" },
      xAxis: { type: "category", data: trend.periods, boundaryGap: false },
      yAxis: mixed ? [valueAxis(false), valueAxis(true, { splitLine: { show: false } })] : valueAxis(pct[0]),
      series: trend.series.map(function (s, i) {
        return { type: "line", name: s.label || s.key, data: s.values, yAxisIndex: mixed && pct[i] ? 1 : 0,
          color: colour(s, i), symbolSize: 5, connectNulls: false,
          tooltip: { valueFormatter: function (v) { return fmt(v, pct[i]); } } };
      })
    };
  }

  // A breakdown: horizontal bars, biggest first (at the top), named by the breakdown's value heading.
  function breakdownOption(cat) {
    if (!cat || !Array.isArray(cat.labels) || !Array.isArray(cat.values) || !cat.labels.length) return null;
    var rows = cat.labels.map(function (label, i) { return [label, cat.values[i] || 0]; });
    rows.sort(function (a, b) { return b[1] - a[1]; });
    return {
      grid: { top: 8 }, tooltip: { trigger: "axis", axisPointer: { type: "shadow" } },
      xAxis: valueAxis(false),
      yAxis: { type: "category", inverse: true, data: rows.map(function (r) { return r[0]; }), axisTick: { show: false } },
      series: [{ type: "bar", name: cat.label || "", data: rows.map(function (r) { return r[1]; }), color: PALETTE[0], barMaxWidth: 22,
        label: { show: true, position: "right", color: "#1f2933" } }]
    };
  }

  // Grouped vertical bars, one group per child unit.
  function leagueOption(league) {
    if (!hasSeries(league, "labels")) return null;
    var pct = league.series.map(isPercent);
    var mixed = pct.indexOf(true) >= 0 && pct.indexOf(false) >= 0;
    return {
      legend: { top: 0 }, tooltip: { trigger: "axis", axisPointer: { type: "shadow" } },
      xAxis: { type: "category", data: league.labels,
        axisLabel: { interval: 0, rotate: league.labels.length > 6 ? 30 : 0, hideOverlap: false } },
      yAxis: mixed ? [valueAxis(false), valueAxis(true, { splitLine: { show: false } })] : valueAxis(pct[0]),
      series: league.series.map(function (s, i) {
        return { type: "bar", name: s.label || s.key, data: s.values, yAxisIndex: mixed && pct[i] ? 1 : 0,
          color: colour(s, i), barMaxWidth: 18,
          tooltip: { valueFormatter: function (v) { return fmt(v, pct[i]); } } };
      })
    };
  }

  var BUILDERS = { trend: trendOption, breakdown: breakdownOption, league: leagueOption };

  // The chart's data: its own key in the JSON, or a declared breakdown's (data-breakdown="<key>").
  function chartData(data, el) {
    var name = el.getAttribute("data-chart");
    return name === "breakdown" ? (data.breakdowns || {})[el.getAttribute("data-breakdown")] : data[name];
  }

  function readData() {
    var node = document.getElementById("dashboard-data");
    if (!node) return null;
    try { return JSON.parse(node.textContent); } catch (e) { return null; }
  }

  function calm() {
    var mq = window.matchMedia;
    return !!mq && (mq("(prefers-reduced-motion: reduce)").matches || mq("print").matches);
  }

  document.addEventListener("DOMContentLoaded", function () {
    var echarts = window.echarts;
    var data = readData();
    if (!echarts || !data) return;
    var charts = [];

    Array.prototype.forEach.call(document.querySelectorAll(".dashboard-chart[data-chart]"), function (el) {
      var build = BUILDERS[el.getAttribute("data-chart")];
      var option = build ? build(chartData(data, el)) : null;
      if (!option) { el.textContent = ""; el.hidden = true; return; }
      var font = window.getComputedStyle(el).fontFamily || FONT;
      option.animation = !calm();
      option.textStyle = { fontFamily: font };
      option.grid = Object.assign({ left: 8, right: 16, top: option.legend ? 36 : 8, bottom: 8, outerBoundsMode: "same" }, option.grid);
      var chart = echarts.init(el, null, { renderer: "svg" });
      chart.setOption(option);
      charts.push(chart);
    });
    if (!charts.length) return;

    function resizeAll() { charts.forEach(function (c) { c.resize(); }); }
    var timer = null;
    window.addEventListener("resize", function () {
      window.clearTimeout(timer);
      timer = window.setTimeout(resizeAll, 150);
    });
    window.addEventListener("beforeprint", function () {
      charts.forEach(function (c) { c.setOption({ animation: false }); });
      resizeAll();
    });
    window.addEventListener("afterprint", resizeAll);
  });
})();
