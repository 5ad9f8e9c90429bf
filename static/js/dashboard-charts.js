/* Dashboard charts: draws the trend, breakdown and league charts from the page's #dashboard-data JSON
   (Django json_script) with the vendored Apache ECharts, SVG renderer so they print sharply.
   Each series says whether it is a percentage ("percent", from the indicator's declaration); the
   trend draws rates on their own right-hand axis, the league draws its counts and its rates as two
   charts. Labels never rotate or overlap: a phone (390 px) hides the ones that would.
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

  // A value axis formatted as counts or rates; labels that would overlap are left out.
  function valueAxis(percent, extra) {
    return Object.assign({ type: "value", minInterval: percent ? 0 : 1, max: percent ? function (v) { return Math.max(1, v.max); } : null,
      axisLabel: { hideOverlap: true, formatter: function (v) { return fmt(v, percent); } },
      splitLine: { lineStyle: { color: "#e5e8ec" } } }, extra || {});
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
      xAxis: { type: "category", data: trend.periods, boundaryGap: false,
        axisLabel: { hideOverlap: true, alignMinLabel: "left", alignMaxLabel: "right" } },
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
      yAxis: { type: "category", inverse: true, data: rows.map(function (r) { return r[0]; }), axisTick: { show: false },
        axisLabel: { width: 84, overflow: "truncate" } },
      series: [{ type: "bar", name: cat.label || "", data: rows.map(function (r) { return r[1]; }), color: PALETTE[0], barMaxWidth: 22,
        label: { show: true, position: "right", color: "#1f2933" } }]
    };
  }

  // The league: horizontal bars, one row of bars per child unit (its name on the left, never
  // rotated or overlapping), drawn twice: its counts in one chart, its rates in another, so a
  // count and a rate never share a bar axis. The chart grows with the number of units.
  function leagueOption(league, part) {
    var series = league && Array.isArray(league[part]) ? league[part] : [];
    if (!Array.isArray(league && league.labels) || !league.labels.length || !series.length) return null;
    var percent = part === "rates";
    return {
      legend: { top: 0 }, tooltip: { trigger: "axis", axisPointer: { type: "shadow" } },
      xAxis: valueAxis(percent),
      yAxis: { type: "category", inverse: true, data: league.labels, axisTick: { show: false },
        axisLabel: { width: 84, overflow: "truncate" } },
      series: series.map(function (s, i) {
        return { type: "bar", name: s.label || s.key, data: s.values, color: colour(s, i), barMaxWidth: 14,
          tooltip: { valueFormatter: function (v) { return fmt(v, percent); } } };
      }),
      height: 30 + league.labels.length * Math.max(24, series.length * 10 + 8)
    };
  }

  var BUILDERS = { trend: trendOption };

  // The chart's option: from its own key in the JSON, a declared breakdown's (data-breakdown="<key>"),
  // or a part of the league (data-part="counts" or "rates").
  function chartOption(data, el) {
    var name = el.getAttribute("data-chart");
    if (name === "breakdown") return breakdownOption((data.breakdowns || {})[el.getAttribute("data-breakdown")]);
    if (name === "league") return leagueOption(data.league, el.getAttribute("data-part") || "counts");
    var build = BUILDERS[name];
    return build ? build(data[name]) : null;
  }

  function readData() {
    var node = document.getElementById("dashboard-data");
    if (!node) return null;
    try { return JSON.parse(node.textContent); } catch (e) { return null; }
  }

  // How many rows the legend takes in a chart ``width`` px wide: its items wrap onto new rows, and
  // the plot starts below them (an item is its symbol, its name and a gap).
  var measure = null;
  function legendRows(names, width, font) {
    measure = measure || document.createElement("canvas").getContext("2d");
    measure.font = "12px " + font;
    var rows = 1, used = 0;
    names.forEach(function (name) {
      var item = 25 + 5 + measure.measureText(name).width + 10;
      if (used && used + item > width - 10) { rows += 1; used = 0; }
      used += item;
    });
    return rows;
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

    // The plot starts below the legend, whose rows depend on the chart's width; a chart with a
    // declared plot height (the league: by its number of units) grows with its legend too.
    function layout(entry) {
      var top = 8;
      if (entry.names) top = 14 + 22 * legendRows(entry.names, entry.el.clientWidth, entry.font);
      if (entry.plot) entry.el.style.height = (entry.plot + top) + "px";
      return top;
    }

    Array.prototype.forEach.call(document.querySelectorAll(".dashboard-chart[data-chart]"), function (el) {
      var option = chartOption(data, el);
      if (!option) { el.textContent = ""; el.hidden = true; return; }
      var font = window.getComputedStyle(el).fontFamily || FONT;
      var entry = { el: el, font: font, plot: option.height || 0,
        names: option.legend ? option.series.map(function (s) { return s.name; }) : null };
      delete option.height;
      option.animation = !calm();
      option.textStyle = { fontFamily: font };
      option.grid = Object.assign({ left: 8, right: 16, top: layout(entry), bottom: 8, outerBoundsMode: "same" },
        option.grid);
      entry.chart = echarts.init(el, null, { renderer: "svg" });
      entry.chart.setOption(option);
      charts.push(entry);
    });
    if (!charts.length) return;

    // Charts follow their card's width: the window's, and the sidebar folding or unfolding.
    function resizeAll() {
      charts.forEach(function (entry) {
        entry.chart.setOption({ grid: { top: layout(entry) } });
        entry.chart.resize();
      });
    }
    var timer = null;
    function later() {
      window.clearTimeout(timer);
      timer = window.setTimeout(resizeAll, 150);
    }
    window.addEventListener("resize", later);
    if (window.ResizeObserver) {
      var observer = new window.ResizeObserver(later);
      charts.forEach(function (entry) { observer.observe(entry.el); });
    }
    window.addEventListener("beforeprint", function () {
      charts.forEach(function (entry) { entry.chart.setOption({ animation: false }); });
      resizeAll();
    });
    window.addEventListener("afterprint", resizeAll);
  });
})();
