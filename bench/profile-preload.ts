// CPU profile of the dev host during a bench run. `node --cpu-prof` is refused in NODE_OPTIONS, and the bench starts
// the dev host as a child process, so this preload does the same through node:inspector: loaded into every process
// with NODE_OPTIONS=--import, it profiles only the dev host and writes <dir>/devhost-<pid>.cpuprofile when the bench
// stops it. Read the result with dist/bench/profile-summary.js, or open it in Chrome DevTools (Performance).
//
//   npm run build
//   BENCH_PROFILE_DIR=/tmp/prof NODE_OPTIONS=--import=./dist/bench/profile-preload.js BENCH_ONLY=1 node dist/bench/run.js
//   node dist/bench/profile-summary.js /tmp/prof/devhost-*.cpuprofile
import fs from 'node:fs';
import inspector from 'node:inspector';
import path from 'node:path';

const dir = process.env.BENCH_PROFILE_DIR;
if (dir && /dev[\\/]host[\\/]main\.js$/.test(process.argv[1] ?? '')) {
  const session = new inspector.Session();
  session.connect();
  session.post('Profiler.enable');
  session.post('Profiler.setSamplingInterval', { interval: 200 });
  session.post('Profiler.start');
  const write = () => {
    // The main thread's own session answers synchronously, so the file is written before the host's exit handler runs.
    session.post('Profiler.stop', (error, result) => {
      if (error) return;
      fs.mkdirSync(dir, { recursive: true });
      fs.writeFileSync(path.join(dir, `devhost-${process.pid}.cpuprofile`), JSON.stringify(result.profile));
    });
  };
  process.prependListener('SIGTERM', write);
  process.prependListener('SIGINT', write);
}
