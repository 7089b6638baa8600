const n = Number(process.argv[2]);
await import('express'); await import('zod'); await import('mysql2/promise'); await import('ioredis'); await import('prom-client'); await import('jose'); await import('pino'); await import('@opentelemetry/sdk-trace-node');
const v8 = await import('node:v8');
const code = () => { const s = v8.getHeapSpaceStatistics(); const o = {}; for (const x of s) o[x.space_name] = (x.space_used_size/1048576).toFixed(2); return o; };
for (let i = 0; i < n; i++) gc();
await new Promise(r => setTimeout(r, 200));
const m = process.memoryUsage();
console.log(n, 'rss', (m.rss/1048576).toFixed(1), 'heapUsed', (m.heapUsed/1048576).toFixed(2), JSON.stringify(code()));
