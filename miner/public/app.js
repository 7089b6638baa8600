// The miner's page: polls /api/stats every second (one request at a time, with a timeout),
// charts hashes/s with uPlot (served locally from the uplot package), and lists the rng
// instances that serve the worker.
'use strict';

const HISTORY_POINTS = 250;
const POLL_INTERVAL_MS = 1000;
// A poll that takes longer is abandoned (and reported), so a hung request cannot freeze the page.
const POLL_TIMEOUT_MS = 3000;
const times = [];
const rates = [];
let chart;

function $(id) {
  return document.getElementById(id);
}

function makeChart() {
  const box = $('chart');
  const options = {
    width: box.clientWidth || 800,
    height: 300,
    scales: { x: { time: true }, y: { range: (_u, _min, max) => [0, Math.max(5, Math.ceil(max * 1.2))] } },
    axes: [{}, { label: 'hashes/s' }],
    series: [{}, { label: 'hashes/s', stroke: '#d97706', width: 2, fill: 'rgba(217, 119, 6, 0.12)' }],
    legend: { show: false },
  };
  chart = new uPlot(options, [times, rates], box);
  window.addEventListener('resize', () => chart.setSize({ width: box.clientWidth, height: 300 }));
}

function pushPoint(t, rate) {
  if (times.length > 0 && t <= times[times.length - 1]) return;
  times.push(t);
  rates.push(rate);
  while (times.length > HISTORY_POINTS) {
    times.shift();
    rates.shift();
  }
}

function formatRate(value) {
  return value >= 100 ? value.toFixed(0) : value.toFixed(1);
}

function percent(share) {
  return `${(share * 100).toFixed(share > 0 && share < 0.1 ? 1 : 0)} %`;
}

function renderInstances(stats) {
  const body = $('rng-instances');
  const ids = new Set([...stats.rng.passing, ...Object.keys(stats.rng.shares)]);
  body.replaceChildren();
  if (ids.size === 0) {
    const row = body.insertRow();
    const cell = row.insertCell();
    cell.colSpan = 3;
    cell.className = 'muted';
    cell.textContent = 'no rng instance is serving: the worker generates bytes locally';
  }
  for (const id of [...ids].sort()) {
    const share = stats.rng.shares[id] ?? 0;
    const passing = stats.rng.passing.includes(id);
    const row = body.insertRow();
    row.dataset.instanceId = id;
    const name = row.insertCell();
    name.textContent = passing ? id : `${id} (gone)`;
    if (!passing) name.className = 'gone';
    row.insertCell().textContent = percent(share);
    const barCell = row.insertCell();
    barCell.className = 'bar-cell';
    const bar = document.createElement('div');
    bar.className = 'bar';
    bar.style.width = `${Math.round(share * 100)}%`;
    barCell.append(bar);
  }
  const h = stats.healthy;
  $('healthy').textContent = `healthy: ${h.rng} rng · ${h.hasher} hasher · ${h.worker} worker`;
}

function render(stats) {
  $('hashes-per-second').textContent = formatRate(stats.hashesPerSecond);
  $('coins').textContent = String(stats.coins);
  $('hashes').textContent = String(stats.hashes);
  $('fallback-share').textContent = percent(stats.fallback.share);
  renderInstances(stats);
  if (stats.sampledAt !== null) pushPoint(stats.sampledAt, stats.hashesPerSecond);
  chart.setData([times, rates]);
  $('chart').dataset.points = String(times.length);
  $('status').textContent = `updated ${new Date(stats.now * 1000).toLocaleTimeString()}`;
}

const poll = jsonPoller('/api/stats', render, { timeoutMs: POLL_TIMEOUT_MS, status: () => $('status') });

async function main() {
  makeChart();
  try {
    const history = await (await fetch('/api/history', { cache: 'no-store', signal: AbortSignal.timeout(POLL_TIMEOUT_MS) })).json();
    for (const [t, rate] of history.points) pushPoint(t, rate);
  } catch {
    // No history yet: the chart fills from the live polls.
  }
  await poll();
  setInterval(poll, POLL_INTERVAL_MS);
}

main();
