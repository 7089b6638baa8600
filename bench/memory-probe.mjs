// Preloaded (`node --import`) into a service by bench/footprint.ts, never by the services
// themselves: on SIGUSR2 it writes one line `MEMORY {json}` to stderr, where the process's
// resident memory goes. RSS is split as the kernel sees it (/proc/self/smaps): pages of the node
// binary (its code and read-only data: V8, Node, OpenSSL, ICU), other files (shared libraries),
// and anonymous memory, of which V8's heap is what V8 has committed per space.
import { readFileSync, realpathSync } from 'node:fs';
import v8 from 'node:v8';

const MiB = 1024 * 1024;
const binary = realpathSync(process.execPath);

process.on('SIGUSR2', () => {
  let mapping = '';
  const kB = { binary: 0, file: 0, anonymous: 0 };
  for (const line of readFileSync('/proc/self/smaps', 'utf8').split('\n')) {
    const header = /^[0-9a-f]+-[0-9a-f]+ \S+ \S+ \S+ \d+\s*(.*)$/.exec(line);
    if (header) mapping = header[1];
    else if (line.startsWith('Rss:')) {
      const size = Number(line.split(/\s+/)[1]);
      if (mapping === binary) kB.binary += size;
      else if (mapping.startsWith('/')) kB.file += size;
      else kB.anonymous += size;
    }
  }
  const spaces = Object.fromEntries(v8.getHeapSpaceStatistics().map((s) => [s.space_name, { committed: s.space_size / MiB, used: s.space_used_size / MiB }]));
  const { heapTotal, heapUsed } = process.memoryUsage();
  const line = {
    rss: (kB.binary + kB.file + kB.anonymous) / 1024,
    binary: kB.binary / 1024,
    otherFiles: kB.file / 1024,
    anonymous: kB.anonymous / 1024,
    heapCommitted: heapTotal / MiB,
    heapUsed: heapUsed / MiB,
    newSpace: spaces.new_space,
    oldSpace: spaces.old_space,
    // Node's own copy of undici (behind the global fetch/WebSocket/Headers, and node:http's lazy
    // getters), which a service never needs beside the undici package it depends on.
    bundledUndici: process.moduleLoadList.includes('NativeModule internal/deps/undici/undici'),
  };
  process.stderr.write(`MEMORY ${JSON.stringify(line)}\n`);
});
