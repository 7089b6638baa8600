// The balancing page: polls /api/balancing every second (one request at a time, with a
// timeout) and draws one panel per service: its passing instances with the traffic their callers
// send them (rates, share, latency, errors, breaker, in flight), a uPlot chart of each instance's
// requests/s, and the event strip (joined, left, ejected, back), newest first.
'use strict';

const POLL_INTERVAL_MS = 1000;
const POLL_TIMEOUT_MS = 3000;
const HISTORY_POINTS = 300;
const CHART_HEIGHT = 130;
const EVENTS_SHOWN = 60;
const COLORS = ['#d97706', '#2563eb', '#16a34a', '#db2777', '#7c3aed', '#0891b2', '#65a30d', '#dc2626', '#475569', '#ca8a04'];

/** service → { times: number[], rates: Map<instanceId, (number|null)[]>, chart, ids: string } */
const charts = new Map();

function $(id) {
  return document.getElementById(id);
}

function el(tag, attributes = {}, ...children) {
  const node = document.createElement(tag);
  for (const [name, value] of Object.entries(attributes)) {
    if (name === 'class') node.className = value;
    else if (name.startsWith('data-')) node.setAttribute(name, value);
    else node[name] = value;
  }
  node.append(...children);
  return node;
}

function rate(value) {
  if (value === 0) return '0';
  return value >= 100 ? value.toFixed(0) : value.toFixed(1);
}

function ms(value) {
  if (value === null) return '–';
  return value >= 100 ? `${value.toFixed(0)} ms` : `${value.toFixed(1)} ms`;
}

function percent(share) {
  return `${(share * 100).toFixed(share > 0 && share < 0.1 ? 1 : 0)} %`;
}

function clock(at) {
  return new Date(at).toLocaleTimeString();
}

// ------------------------------------------------------------------ history and charts

function historyOf(service) {
  let history = charts.get(service);
  if (!history) {
    history = { times: [], rates: new Map(), chart: undefined, ids: '' };
    charts.set(service, history);
  }
  return history;
}

/** Adds one point (seconds, {instanceId: requests/s}) to a service's chart data. */
function pushPoint(service, t, rates) {
  const history = historyOf(service);
  if (history.times.length > 0 && t <= history.times[history.times.length - 1]) return;
  history.times.push(t);
  for (const id of Object.keys(rates)) {
    if (!history.rates.has(id)) history.rates.set(id, new Array(history.times.length - 1).fill(null));
  }
  for (const [id, values] of history.rates) values.push(id in rates ? rates[id] : null);
  while (history.times.length > HISTORY_POINTS) {
    history.times.shift();
    for (const values of history.rates.values()) values.shift();
  }
  // A line that scrolled out entirely (an instance long gone) leaves the chart.
  for (const [id, values] of history.rates) if (values.every((v) => v === null)) history.rates.delete(id);
}

function drawChart(service, box) {
  const history = historyOf(service);
  const ids = [...history.rates.keys()].sort();
  const data = [history.times, ...ids.map((id) => history.rates.get(id))];
  const key = ids.join(' ');
  if (history.chart && history.ids === key && history.chart.root.parentNode === box) {
    history.chart.setData(data);
    box.dataset.points = String(history.times.length);
    return;
  }
  // The set of instances changed: a new chart with one line per instance.
  history.chart?.destroy();
  box.replaceChildren();
  history.ids = key;
  history.chart = new uPlot(
    {
      width: box.clientWidth || 600,
      height: CHART_HEIGHT,
      scales: { x: { time: true }, y: { range: (_u, _min, max) => [0, Math.max(5, Math.ceil((max || 0) * 1.2))] } },
      axes: [{}, { label: 'req/s', size: 50 }],
      series: [{}, ...ids.map((id, i) => ({ label: id, stroke: COLORS[i % COLORS.length], width: 2, spanGaps: false }))],
      legend: { show: false },
    },
    data,
    box,
  );
  box.dataset.points = String(history.times.length);
}

// ------------------------------------------------------------------ panels

function instanceRow(instance, showSockets) {
  const row = el('tr', { 'data-instance-id': instance.id, 'data-breaker': instance.breaker, 'data-share': String(instance.share) });
  if (!instance.passing) row.className = 'leaving';
  const bar = el('div', { class: 'bar' });
  bar.style.width = `${Math.round(instance.share * 100)}%`;
  const breaker = el('span', { class: 'breaker', 'data-state': instance.breaker }, instance.breaker);
  if (instance.ejectedBy.length > 0) breaker.title = `ejected by ${instance.ejectedBy.join(', ')}`;
  const cells = [
    el('td', { title: instance.seenBy.length ? `${instance.id}, called by ${instance.seenBy.join(', ')}` : instance.id }, instance.passing ? instance.id : `${instance.id} (leaving)`),
    el('td', { class: 'num' }, rate(instance.requestsPerSecond)),
    el('td', { class: 'num share' }, percent(instance.share)),
    el('td', { class: 'share-cell' }, bar),
    el('td', { class: 'num' }, ms(instance.p50Ms)),
    el('td', { class: 'num' }, ms(instance.p99Ms)),
    el('td', { class: 'num' }, rate(instance.errorsPerSecond)),
    el('td', {}, breaker),
    el('td', { class: 'num' }, String(instance.inFlight)),
  ];
  if (showSockets) cells.push(el('td', { class: 'num sockets' }, String(instance.liveSockets ?? 0)));
  row.append(...cells);
  return row;
}

function panelFor(service) {
  let panel = document.querySelector(`section.service[data-service="${CSS.escape(service)}"]`);
  if (!panel) {
    panel = el('section', { class: 'service', 'data-service': service });
    panel.append(el('h2'), el('table'), el('p', { class: 'callers' }), el('div', { class: 'chart' }));
  }
  return panel;
}

function renderPanel(panel, service) {
  const called = service.callers.length > 0;
  panel.classList.toggle('idle', !called);
  const showSockets = service.instances.some((i) => i.liveSockets !== null);
  const [title, table, callers, chartBox] = panel.children;
  title.replaceChildren(
    el('span', {}, service.service),
    el('span', { class: 'facts' }, `${service.passing.length} passing · ${rate(service.requestsPerSecond)} req/s`),
  );
  const head = ['instance', 'req/s', 'share', '', 'p50', 'p99', 'err/s', 'breaker', 'in flight'];
  if (showSockets) head.push('live sockets');
  const thead = el('thead', {}, el('tr', {}, ...head.map((h, i) => el('th', { class: i === 0 || i === 3 || i === 7 ? '' : 'num' }, h))));
  const tbody = el('tbody');
  if (service.instances.length === 0) {
    tbody.append(el('tr', {}, el('td', { colSpan: head.length, class: 'muted' }, 'no passing instance')));
  }
  for (const instance of service.instances) tbody.append(instanceRow(instance, showSockets));
  table.replaceChildren(thead, tbody);
  callers.textContent = called
    ? `as seen by ${service.callers.join(', ')}`
    : 'no caller in this stack calls it (it may be a caller itself)';
  if (called && charts.get(service.service)?.rates.size > 0) drawChart(service.service, chartBox);
  else chartBox.replaceChildren();
}

function renderServices(snapshot) {
  const box = $('services');
  // Called services first (where the balancing happens), then the others; each by name.
  const ordered = [...snapshot.services].sort((a, b) => (b.callers.length > 0) - (a.callers.length > 0) || a.service.localeCompare(b.service));
  const panels = ordered.map((service) => panelFor(service.service));
  if (panels.length === 0) box.replaceChildren(el('p', { class: 'muted' }, 'no service found in Consul yet'));
  else box.replaceChildren(...panels);
  // Drawn once in the page, so a new chart takes its box's real width.
  ordered.forEach((service, i) => renderPanel(panels[i], service));
}

// ------------------------------------------------------------------ events

function describe(event) {
  switch (event.kind) {
    case 'joined':
      return `${event.instance} joined${event.detail ? ` (${event.detail})` : ''}`;
    case 'left':
      return `${event.instance} left${event.detail ? ` (${event.detail})` : ''}`;
    case 'ejected':
      return `${event.instance} ejected by the breaker of ${event.by.join(', ')}`;
    case 'back':
      return `${event.instance} back in rotation (${event.by.join(', ')})`;
    default:
      return `${event.instance} ${event.kind}`;
  }
}

function renderEvents(events) {
  const list = $('events');
  if (events.length === 0) return;
  list.replaceChildren(
    ...events.slice(0, EVENTS_SHOWN).map((event) =>
      el(
        'li',
        { 'data-kind': event.kind, 'data-instance': event.instance, 'data-service': event.service },
        el('time', {}, clock(event.at)),
        el('span', { class: 'kind' }, event.kind),
        describe(event),
      ),
    ),
  );
}

// ------------------------------------------------------------------ polling

function render(snapshot) {
  for (const service of snapshot.services) {
    pushPoint(service.service, snapshot.now / 1000, Object.fromEntries(service.instances.map((i) => [i.id, i.requestsPerSecond])));
  }
  renderServices(snapshot);
  renderEvents(snapshot.events);
  const answered = snapshot.callers.filter((c) => c.ok).length;
  const silent = snapshot.callers.filter((c) => !c.ok).map((c) => `${c.id}: ${c.error}`);
  $('status').textContent =
    `updated ${clock(snapshot.now)} · rates over ${snapshot.windowSeconds} s · ${answered} of ${snapshot.callers.length} instances answered` +
    (silent.length ? ` (not: ${silent.join('; ')})` : '');
}

const poll = jsonPoller('/api/balancing', render, { timeoutMs: POLL_TIMEOUT_MS, status: () => $('status') });

async function main() {
  try {
    const history = await (await fetch('/api/balancing/history', { cache: 'no-store', signal: AbortSignal.timeout(POLL_TIMEOUT_MS) })).json();
    for (const point of history.points) {
      for (const [service, rates] of Object.entries(point.rates)) pushPoint(service, point.at / 1000, rates);
    }
  } catch {
    // No history yet: the charts fill from the live polls.
  }
  await poll();
  setInterval(poll, POLL_INTERVAL_MS);
  window.addEventListener('resize', () => {
    for (const history of charts.values()) {
      const box = history.chart?.root.parentNode;
      if (box) history.chart.setSize({ width: box.clientWidth, height: CHART_HEIGHT });
    }
  });
}

main();
