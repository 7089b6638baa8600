// Loaded into each proxy of bench/gateway-hop.ts (`--import`): where a request's time goes at 1
// connection, split at the proxy's two writes. Inert until the bench signals it (SIGUSR2), so
// the load rounds run without it; the next signal writes what it saw to
// `${BENCH_TIMELINE_OUT}.${pid}` and stops. JavaScript, so tsx and compiled runs load it alike.
//
// Three stretches of a request, timed only while it is the one request in the proxy (strictly
// serial: what the added p50 at 1 connection is made of):
// - in → upstream write: node's http server starts the request → undici writes its headers upstream
// - upstream: that write → undici has parsed the answer's headers (the backend's turn, the
//   wake-ups on both sides, and whatever the proxy still does after its write)
// - answer → client write: the answer's headers parsed → the proxy's res.end() returned (the
//   answer written to the client's socket)
// and a fourth, after the answer left: res.end() returned → a setImmediate queued then runs (the
// turn's remaining callbacks, ticks and microtasks: access line, metrics, span end, the upstream
// call settling). It delays the serial loop only if the client's next request starts first; those
// turns are counted (`overtaken`) instead of timed.
import dc from 'node:diagnostics_channel';
import { writeFileSync } from 'node:fs';
import { ServerResponse } from 'node:http';

const out = process.env.BENCH_TIMELINE_OUT;
const originalEnd = ServerResponse.prototype.end;
let recording = false;
let seq = 0;
let inFlight = 0;
let overlapped = false;
let startedAt = 0;
let upstreamWriteAt = 0;
let answerAt = 0;
const stretches = { in: [], upstream: [], answer: [], after: [] };
let startedSinceEnd = false;
let overtaken = 0;

const onStart = () => {
  inFlight += 1;
  startedSinceEnd = true;
  if (inFlight > 1) overlapped = true;
  startedAt = performance.now();
  upstreamWriteAt = answerAt = 0;
};
const onUpstreamWrite = () => (upstreamWriteAt = performance.now());
const onAnswer = () => (answerAt = performance.now());
function end(...args) {
  const result = originalEnd.apply(this, args);
  const endedAt = performance.now();
  if (inFlight === 1 && !overlapped && upstreamWriteAt > startedAt && answerAt > upstreamWriteAt) {
    stretches.in.push(upstreamWriteAt - startedAt);
    stretches.upstream.push(answerAt - upstreamWriteAt);
    stretches.answer.push(endedAt - answerAt);
    startedSinceEnd = false;
    setImmediate(() => {
      if (startedSinceEnd) overtaken += 1;
      else stretches.after.push(performance.now() - endedAt);
    });
  }
  if (inFlight === 1) overlapped = false;
  inFlight = Math.max(0, inFlight - 1);
  return result;
}

const medianUs = (values) => {
  if (values.length === 0) return null;
  const sorted = [...values].sort((a, b) => a - b);
  return sorted[sorted.length >> 1] * 1000;
};

process.on('SIGUSR2', () => {
  if (!out) return;
  seq += 1;
  if (!recording) {
    for (const list of Object.values(stretches)) list.length = 0;
    overtaken = 0;
    inFlight = 0;
    overlapped = false;
    dc.subscribe('http.server.request.start', onStart);
    dc.subscribe('undici:client:sendHeaders', onUpstreamWrite);
    dc.subscribe('undici:request:headers', onAnswer);
    ServerResponse.prototype.end = end;
    recording = true;
    writeFileSync(`${out}.${process.pid}`, JSON.stringify({ seq, recording }));
    return;
  }
  dc.unsubscribe('http.server.request.start', onStart);
  dc.unsubscribe('undici:client:sendHeaders', onUpstreamWrite);
  dc.unsubscribe('undici:request:headers', onAnswer);
  ServerResponse.prototype.end = originalEnd;
  recording = false;
  const medians = { n: stretches.in.length, inUs: medianUs(stretches.in), upstreamUs: medianUs(stretches.upstream), answerUs: medianUs(stretches.answer), afterUs: medianUs(stretches.after), overtaken };
  writeFileSync(`${out}.${process.pid}`, JSON.stringify({ seq, recording, ...medians }));
});
