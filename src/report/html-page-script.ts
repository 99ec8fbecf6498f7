// The script inside the HTML report: reads the embedded report model and draws the charts with the
// inlined uPlot. Kept as a string (tsc copies no assets to dist/); plain ES2019, no template literals,
// so it needs no escaping here. Each chart container gets data-drawn="1" once drawn and the rates chart
// data-marks (the marks' canvas x positions), which the browser test reads.
import { OUTCOME_CLASSES, type OutcomeClass } from '../shared/outcome.js';

/** One colour per class (also the table swatches): ok green, 403 red, 429 orange, 503 purple. */
export const CLASS_COLORS: Record<OutcomeClass, string> = {
  ok: '#3a9d5d',
  forbidden: '#d62728',
  throttled: '#ff8c1a',
  overload: '#8e5cc4',
  auth_failed: '#8c564b',
  client_error: '#e377c2',
  server_error: '#7f7f7f',
  global_error: '#bcbd22',
  timeout: '#17becf',
  transport_error: '#3b4b9a',
  malformed: '#9fb7d9',
  dropped: '#444444',
};

export const MARK_COLORS = { publish: '#111111', phase: '#8a8a8a', hook: '#1f6fd1', mark: '#5a5a5a' } as const;

const SCRIPT = String.raw`
(function () {
  'use strict';
  var CLASS_COLORS = __CLASS_COLORS__;
  var MARK_COLORS = __MARK_COLORS__;
  var CLASS_ORDER = __CLASS_ORDER__;
  var model = JSON.parse(document.getElementById('sipstorm-model').textContent);
  var charts = [];
  window.sipstormReport = { model: model, charts: charts };

  function fmtSeconds(s) {
    if (s < 120) return Math.round(s * 10) / 10 + ' s';
    var m = Math.floor(s / 60), r = Math.round(s - m * 60);
    return m + ':' + (r < 10 ? '0' : '') + r;
  }
  function fmtMs(v) {
    if (v == null) return '-';
    if (v < 1) return v.toFixed(3) + ' ms';
    if (v < 100) return v.toFixed(2) + ' ms';
    if (v < 1000) return v.toFixed(1) + ' ms';
    return (v / 1000).toFixed(2) + ' s';
  }
  function fmtAxisMs(v) {
    if (v == null) return '';
    if (v >= 1000) return Number((v / 1000).toPrecision(3)) + ' s';
    return Number(v.toPrecision(3)) + ' ms';
  }
  function ninesLabel(v) {
    var p = 100 * (1 - Math.pow(10, -v));
    return p.toFixed(Math.max(0, Math.ceil(v) - 2)) + '%';
  }
  function width(el) { return Math.max(320, Math.floor(el.clientWidth || 800)); }
  function positive(arr) { return arr.map(function (v) { return v != null && v > 0 ? v : null; }); }

  // Vertical lines for T0 / hooks / phase starts; positions kept on the container for the tests. The
  // publish line is drawn last (on top). Marks within a few pixels share one label; labels that would
  // overlap go one row down. uPlot leaves its own text alignment on the context: set ours explicitly.
  var DRAW_ORDER = { phase: 0, mark: 1, hook: 2, publish: 3 };
  function marksPlugin(marks, container, withLabels) {
    var ordered = marks.slice().sort(function (a, b) { return (DRAW_ORDER[a.kind] || 0) - (DRAW_ORDER[b.kind] || 0); });
    return {
      hooks: {
        draw: [function (u) {
          var ctx = u.ctx, top = u.bbox.top, h = u.bbox.height, drawn = [];
          var dpr = window.devicePixelRatio || 1;
          ctx.save();
          ordered.forEach(function (m) {
            var x = Math.round(u.valToPos(m.tMs / 1000, 'x', true));
            if (x < u.bbox.left - 1 || x > u.bbox.left + u.bbox.width + 1) return;
            ctx.strokeStyle = MARK_COLORS[m.kind] || MARK_COLORS.mark;
            ctx.lineWidth = (m.kind === 'publish' ? 2.5 : 1.5) * dpr;
            ctx.setLineDash(m.kind === 'phase' ? [3 * dpr, 3 * dpr] : m.kind === 'publish' ? [] : [7 * dpr, 4 * dpr]);
            ctx.beginPath(); ctx.moveTo(x, top); ctx.lineTo(x, top + h); ctx.stroke();
            drawn.push({ name: m.name, kind: m.kind, x: x });
          });
          ctx.setLineDash([]);
          if (withLabels) drawLabels(u, ctx, groupMarks(drawn, 4 * dpr), dpr);
          ctx.restore();
          container.dataset.marks = JSON.stringify(drawn);
        }],
      },
    };
  }

  function groupMarks(drawn, near) {
    var groups = [];
    drawn.slice().sort(function (a, b) { return a.x - b.x || (DRAW_ORDER[b.kind] || 0) - (DRAW_ORDER[a.kind] || 0); }).forEach(function (m) {
      var g = groups[groups.length - 1];
      if (!g || m.x - g.x > near) groups.push(g = { x: m.x, kind: m.kind, names: [] });
      if ((DRAW_ORDER[m.kind] || 0) > (DRAW_ORDER[g.kind] || 0)) g.kind = m.kind;
      var name = m.kind === 'publish' ? m.name + ' (publish)' : m.name;
      if (g.names.indexOf(name) < 0) g.names.push(name);
    });
    groups.forEach(function (g) {
      g.names.sort(function (a, b) { return (b.indexOf('(publish)') >= 0) - (a.indexOf('(publish)') >= 0); });
    });
    return groups;
  }

  function drawLabels(u, ctx, groups, dpr) {
    var rows = [];
    ctx.textAlign = 'left';
    ctx.textBaseline = 'alphabetic';
    groups.forEach(function (g) {
      var label = g.names.join(' · ');
      ctx.font = (g.kind === 'publish' ? 'bold ' : '') + Math.round(11 * dpr) + 'px system-ui, sans-serif';
      var tw = ctx.measureText(label).width;
      var lx = Math.max(u.bbox.left + 2 * dpr, Math.min(g.x + 4 * dpr, u.bbox.left + u.bbox.width - tw - 4 * dpr));
      var row = 0;
      while (rows[row] !== undefined && rows[row] > lx - 6 * dpr) row++;
      rows[row] = lx + tw;
      var ly = u.bbox.top + (2 + row * 16) * dpr;
      ctx.fillStyle = 'rgba(255,255,255,0.85)';
      ctx.fillRect(lx - 2 * dpr, ly, tw + 4 * dpr, 14 * dpr);
      ctx.fillStyle = MARK_COLORS[g.kind] || MARK_COLORS.mark;
      ctx.fillText(label, lx, ly + 11 * dpr);
    });
  }

  function timeAxis() {
    return { values: function (u, splits) { return splits.map(fmtSeconds); } };
  }

  function mount(container, opts, data) {
    opts.width = width(container);
    var u = new uPlot(opts, data, container);
    charts.push({ id: container.id, uplot: u });
    container.dataset.drawn = '1';
    return u;
  }

  function rateChart(run, container) {
    var tl = run.timeline;
    if (tl.t.length === 0 || tl.classesPresent.length === 0) return empty(container, 'No operations completed.');
    // Stepped areas: each second [t, t+1) is flat, so repeat the last value at t_last + 1.
    var xs = tl.t.concat([tl.t[tl.t.length - 1] + 1]);
    var order = CLASS_ORDER.filter(function (c) { return tl.classesPresent.indexOf(c) >= 0; });
    var cum = [], acc = xs.map(function () { return 0; });
    order.forEach(function (c) {
      var raw = tl.byClass[c].concat([tl.byClass[c][tl.byClass[c].length - 1]]);
      acc = acc.map(function (v, i) { return v + raw[i]; });
      cum.push({ c: c, raw: raw, values: acc.slice() });
    });
    // Draw the tallest (sum of all) first, each lower class on top of it: the areas read as a stack.
    cum.reverse();
    var series = [{ label: 'time', value: function (u, v) { return v == null ? '-' : fmtSeconds(v); } }];
    cum.forEach(function (s) {
      series.push({
        label: s.c, stroke: CLASS_COLORS[s.c], fill: CLASS_COLORS[s.c], width: 1,
        paths: uPlot.paths.stepped({ align: 1 }), points: { show: false },
        value: (function (raw) { return function (u, v, si, i) { return i == null ? '-' : String(raw[i]); }; })(s.raw),
      });
    });
    mount(container, {
      height: 280,
      scales: { x: { time: false } },
      series: series,
      axes: [timeAxis(), { label: 'operations / s', size: 60 }],
      plugins: [marksPlugin(run.marks, container, true)],
    }, [xs].concat(cum.map(function (s) { return s.values; })));
  }

  function latencyChart(run, container) {
    var tl = run.timeline;
    if (tl.t.length === 0 || !tl.p99Ms.some(function (v) { return v != null && v > 0; })) return empty(container, 'No latency recorded.');
    var series = [{ label: 'time', value: function (u, v) { return v == null ? '-' : fmtSeconds(v); } },
      { label: 'p50', stroke: '#2b6cb0', width: 2, spanGaps: false, value: function (u, v) { return fmtMs(v); } },
      { label: 'p99', stroke: '#d64545', width: 2, spanGaps: false, value: function (u, v) { return fmtMs(v); } }];
    var data = [tl.t.map(function (t) { return t + 0.5; }), positive(tl.p50Ms), positive(tl.p99Ms)];
    if (tl.maxMs.some(function (v) { return v != null; })) {
      series.push({ label: 'max', stroke: '#999999', width: 1, dash: [4, 3], spanGaps: false, value: function (u, v) { return fmtMs(v); } });
      data.push(positive(tl.maxMs));
    }
    mount(container, {
      height: 240,
      scales: { x: { time: false, range: [0, tl.t.length] }, y: { distr: 3 } },
      series: series,
      axes: [timeAxis(), { label: 'latency (corrected)', size: 70, values: function (u, s) { return s.map(fmtAxisMs); } }],
      plugins: [marksPlugin(run.marks, container, false)],
    }, data);
  }

  function distributionChart(run, container) {
    var d = run.distribution;
    if (d.count === 0 || d.nines.length < 2) return empty(container, 'Too few samples for a distribution.');
    var top = d.nines[d.nines.length - 1];
    mount(container, {
      height: 240,
      scales: { x: { time: false, range: [0, Math.max(1, top)] }, y: { distr: 3 } },
      series: [
        { label: 'percentile', value: function (u, v) { return v == null ? '-' : ninesLabel(v); } },
        { label: 'corrected (from intended send)', stroke: '#d64545', width: 2, value: function (u, v) { return fmtMs(v); } },
        { label: 'uncorrected (from actual send)', stroke: '#2b6cb0', width: 2, dash: [6, 4], value: function (u, v) { return fmtMs(v); } },
      ],
      axes: [
        { label: 'percentile', splits: function (u, i, min, max) { var s = []; for (var k = Math.ceil(min); k <= Math.floor(max); k++) s.push(k); return s; },
          values: function (u, splits) { return splits.map(ninesLabel); } },
        { label: 'latency', size: 70, values: function (u, s) { return s.map(fmtAxisMs); } },
      ],
    }, [d.nines, positive(d.correctedMs), positive(d.uncorrectedMs)]);
  }

  function sweepChart(sweep, container) {
    if (sweep.rows.length === 0) return empty(container, 'The sweep has no rows.');
    var xs = sweep.rows.map(function (r, i) { return i; });
    var names = sweep.rows.map(function (r) { return r.name; });
    var pctValue = function (u, v) { return v == null ? '-' : v.toFixed(2) + ' %'; };
    mount(container, {
      height: 260,
      scales: { x: { time: false, range: [-0.5, xs.length - 0.5] } },
      series: [
        { label: 'setting', value: function (u, v) { return v == null ? '-' : names[v]; } },
        { label: '403 %', stroke: CLASS_COLORS.forbidden, width: 2, points: { show: true, size: 9, fill: CLASS_COLORS.forbidden }, value: pctValue },
        { label: '429 %', stroke: CLASS_COLORS.throttled, width: 2, points: { show: true, size: 9, fill: CLASS_COLORS.throttled }, value: pctValue },
      ],
      axes: [
        { label: 'per-agent rate setting', splits: function () { return xs; }, values: function (u, s) { return s.map(function (i) { return names[i] || ''; }); } },
        { label: '% of operations', size: 60 },
      ],
    }, [xs, sweep.rows.map(function (r) { return r.forbiddenPct; }), sweep.rows.map(function (r) { return r.throttledPct; })]);
  }

  function empty(container, text) {
    container.classList.add('empty');
    container.textContent = text;
  }

  function draw(id, fn) {
    var el = document.getElementById(id);
    if (!el) return;
    try { fn(el); } catch (err) { el.textContent = 'chart failed: ' + err.message; console.error(err); }
  }

  if (model.sweep) draw('chart-sweep', function (el) { sweepChart(model.sweep, el); });
  model.runs.forEach(function (run) {
    draw(run.id + '-rates', function (el) { rateChart(run, el); });
    draw(run.id + '-latency', function (el) { latencyChart(run, el); });
    draw(run.id + '-distribution', function (el) { distributionChart(run, el); });
  });

  var resizeTimer = null;
  window.addEventListener('resize', function () {
    clearTimeout(resizeTimer);
    resizeTimer = setTimeout(function () {
      charts.forEach(function (c) {
        var el = document.getElementById(c.id);
        if (el) c.uplot.setSize({ width: width(el), height: c.uplot.height });
      });
    }, 100);
  });
})();
`;

export const PAGE_SCRIPT: string = SCRIPT.replace('__CLASS_COLORS__', JSON.stringify(CLASS_COLORS))
  .replace('__MARK_COLORS__', JSON.stringify(MARK_COLORS))
  .replace('__CLASS_ORDER__', JSON.stringify(OUTCOME_CLASSES));
