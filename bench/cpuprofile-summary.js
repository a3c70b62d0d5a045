#!/usr/bin/env node
// Summarise a V8 .cpuprofile (e.g. from BENCH_CPU_PROF=dir npm run bench): self time by module and function,
// and with a third argument `incl`, inclusive time.   node bench/cpuprofile-summary.js FILE.cpuprofile [topN] [incl]
import { readFileSync } from 'node:fs';
const prof = JSON.parse(readFileSync(process.argv[2], 'utf8'));
const top = Number(process.argv[3] ?? 25);
const byId = new Map(prof.nodes.map((n) => [n.id, n]));
const self = new Map();
const dts = prof.timeDeltas;
for (let i = 0; i < prof.samples.length; i++) self.set(prof.samples[i], (self.get(prof.samples[i]) ?? 0) + (dts[i] ?? 0));
const total = [...self.values()].reduce((a, b) => a + b, 0);
// parent links for inclusive
const parent = new Map();
for (const n of prof.nodes) for (const c of n.children ?? []) parent.set(c, n.id);
const fn = new Map(), file = new Map(), incl = new Map();
const short = (u) => u.replace('file:///work/main/', '').replace(/^node:/, 'node:');
const pkg = (u) => { if (!u) return '(native/vm)'; const m = /node_modules\/((@[^/]+\/)?[^/]+)/.exec(u); if (m) return 'npm:' + m[1]; if (u.startsWith('node:')) return 'node-internal'; return short(u); };
for (const [id, t] of self) {
  const n = byId.get(id); const cf = n.callFrame;
  const k = `${cf.functionName || '(anon)'} ${short(cf.url)}:${cf.lineNumber + 1}`;
  fn.set(k, (fn.get(k) ?? 0) + t);
  const p = pkg(cf.url) || cf.functionName;
  file.set(p === '(native/vm)' ? `(${cf.functionName})` : p, (file.get(p === '(native/vm)' ? `(${cf.functionName})` : p) ?? 0) + t);
  // inclusive by function key, count each key once per stack
  const seen = new Set(); let cur = id;
  while (cur !== undefined) { const c = byId.get(cur).callFrame; const kk = `${c.functionName || '(anon)'} ${short(c.url)}:${c.lineNumber + 1}`; if (!seen.has(kk)) { seen.add(kk); incl.set(kk, (incl.get(kk) ?? 0) + t); } cur = parent.get(cur); }
}
const pr = (title, m) => { console.log(`\n== ${title} (total ${(total/1000).toFixed(0)} ms)`); for (const [k, v] of [...m].sort((a, b) => b[1] - a[1]).slice(0, top)) console.log(`${(v / 1000).toFixed(1).padStart(9)} ms ${(100 * v / total).toFixed(1).padStart(5)}%  ${k}`); };
pr('self by module', file); pr('self by function', fn);
if (process.argv[4] === 'incl') pr('inclusive by function', incl);
