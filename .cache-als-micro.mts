import { AsyncLocalStorage } from 'node:async_hooks';
const als = new AsyncLocalStorage<object>();
const N = 200_000;
async function chain(depth: number): Promise<number> { if (depth === 0) return 1; await null; return 1 + (await chain(depth - 1)); }
async function bench(name: string, fn: () => Promise<unknown>) {
  for (let i = 0; i < 20_000; i++) await fn();
  const t = process.hrtime.bigint();
  for (let i = 0; i < N; i++) await fn();
  console.log(name, (Number(process.hrtime.bigint() - t) / N).toFixed(0), 'ns');
}
const mode = process.argv[2];
if (mode === 'als') { await bench('als.run chain10', () => als.run({ a: 1 }, () => chain(10))); await bench('als.run chain10', () => als.run({ a: 1 }, () => chain(10))); }
else { await bench('plain chain10', () => chain(10)); await bench('plain chain10', () => chain(10)); }
if (mode === 'als0') { await bench('als.run chain0', () => als.run({ a: 1 }, () => chain(0))); await bench('plain chain0', () => chain(0)); await bench('als.run chain10', () => als.run({ a: 1 }, () => chain(10)));}
