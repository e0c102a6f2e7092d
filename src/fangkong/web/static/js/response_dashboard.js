// The command dashboard's charts, drawn from the page's JSON data block (no inline script: the pages'
// Content-Security-Policy allows scripts from this origin only).
document.addEventListener("DOMContentLoaded", function () {
  var block = document.getElementById("dashboard-data");
  if (!block || !window.echarts) return;
  var data = JSON.parse(block.textContent);
  var L = data.labels;
  var charts = [];
  var curve = document.getElementById("db-curve");
  if (curve) {
    // Rt is drawn only where the estimate is usable; a gap is a window with too few cases, not a zero.
    var width = data.rtHigh.map(function (h, i) { return (h === null || data.rtLow[i] === null) ? null : h - data.rtLow[i]; });
    var chart = echarts.init(curve);
    chart.setOption({
      tooltip: {trigger: "axis"}, legend: {top: 0},
      grid: {left: 40, right: 40, top: 30, bottom: 28},
      xAxis: {type: "category", data: data.days},
      yAxis: [{type: "value", name: L.cases, minInterval: 1}, {type: "value", name: "Rt", min: 0, splitLine: {show: false}}],
      series: [
        {name: L.report, type: "bar", data: data.report, itemStyle: {color: "#b42318"}},
        {name: L.onset, type: "line", data: data.onset, symbol: "none", lineStyle: {type: "dashed", color: "#b45309"}},
        // The nowcast of the onset curve's last days: a band and a dotted line beside the counts, which stay as reported.
        {type: "line", data: data.nowcastLow, stack: "nowcast", symbol: "none", lineStyle: {opacity: 0}, tooltip: {show: false}},
        {name: L.nowcastBand, type: "line", data: data.nowcastHigh.map(function (h, i) { return (h === null || data.nowcastLow[i] === null) ? null : h - data.nowcastLow[i]; }), stack: "nowcast", symbol: "none", lineStyle: {opacity: 0}, areaStyle: {color: "rgba(183,121,31,0.25)"}},
        {name: L.nowcast, type: "line", data: data.nowcast, symbol: "circle", symbolSize: 4, lineStyle: {type: "dotted", width: 2, color: "#b7791f"}, itemStyle: {color: "#b7791f"}},
        {type: "line", data: data.rtLow, yAxisIndex: 1, stack: "band", symbol: "none", lineStyle: {opacity: 0}, tooltip: {show: false}},
        {name: L.band, type: "line", data: width, yAxisIndex: 1, stack: "band", symbol: "none", lineStyle: {opacity: 0}, areaStyle: {color: "rgba(31,95,191,0.15)"}},
        {name: L.rt, type: "line", data: data.rt, yAxisIndex: 1, symbol: "none", lineStyle: {width: 2, color: "#1f5fbf"},
         markLine: {symbol: "none", silent: true, data: [{yAxis: 1}], lineStyle: {type: "dotted", color: "#616e7c"}}}
      ]
    });
    charts.push(chart);
  }
  data.histograms.forEach(function (h) {
    var el = document.getElementById(h.id);
    if (!el) return;
    var c = echarts.init(el);
    c.setOption({
      tooltip: {trigger: "axis"}, grid: {left: 32, right: 8, top: 8, bottom: 36},
      xAxis: {type: "category", data: h.bins, name: L.hours, nameLocation: "middle", nameGap: 22},
      yAxis: {type: "value", minInterval: 1},
      series: [{type: "bar", data: h.counts, itemStyle: {color: "#1f5fbf"}}]
    });
    charts.push(c);
  });
  window.addEventListener("resize", function () { charts.forEach(function (c) { c.resize(); }); });
});
