// Builds the three web UIs into packages/ui/dist with Vite.
//
// Plain JavaScript, not TypeScript, on purpose: the root `prepare` script runs it, and in a
// production install (`npm install --omit=dev`) neither Node 24 (the devDependency that strips
// types) nor Vite is there, so this file must run on any Node and skip with a message.
//
//   node packages/ui/scripts/build.js               build
//   node packages/ui/scripts/build.js --if-missing  build only when an app's index.html is missing (npm start)
//   node packages/ui/scripts/build.js --if-stale    build when a source file is newer than the build (e2e tests)
//
// Concurrent runs (parallel test files) take a lock, so one builds and the others wait for it.
import { existsSync, mkdirSync, readdirSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';

const root = dirname(dirname(fileURLToPath(import.meta.url)));
const dist = join(root, 'dist');
const stamp = join(dist, '.built');
const lock = join(root, '.build-lock');
const apps = ['publisher', 'devportal', 'admin'];
const mode = process.argv[2] ?? '';

function newestMtime(dir) {
  let newest = 0;
  for (const entry of readdirSync(dir, { withFileTypes: true })) {
    const path = join(dir, entry.name);
    newest = Math.max(newest, entry.isDirectory() ? newestMtime(path) : statSync(path).mtimeMs);
  }
  return newest;
}

function upToDate() {
  if (!apps.every((app) => existsSync(join(dist, app, 'index.html')))) return false;
  if (mode !== '--if-stale') return true;
  if (!existsSync(stamp)) return false;
  const sources = Math.max(newestMtime(join(root, 'src')), statSync(join(root, 'vite.config.ts')).mtimeMs, statSync(join(root, 'package.json')).mtimeMs);
  return statSync(stamp).mtimeMs >= sources;
}

async function withLock(fn) {
  const deadline = Date.now() + 5 * 60_000;
  for (;;) {
    try {
      mkdirSync(lock);
      break;
    } catch (err) {
      if (err.code !== 'EEXIST') throw err;
      // A lock older than the longest build is left over from a killed run.
      if (Date.now() - statSync(lock, { throwIfNoEntry: false })?.mtimeMs > 5 * 60_000) rmSync(lock, { recursive: true, force: true });
      if (Date.now() > deadline) throw new Error(`another UI build holds ${lock}`);
      await new Promise((r) => setTimeout(r, 200));
    }
  }
  try {
    return await fn();
  } finally {
    rmSync(lock, { recursive: true, force: true });
  }
}

async function main() {
  if (mode && upToDate()) return;
  let vite;
  try {
    vite = await import('vite');
  } catch {
    console.log('gatehouse: Vite is not installed (a production install without dev dependencies?), so the web UIs were not built. Run `npm install` with dev dependencies, then `npm run build:ui`.');
    return;
  }
  await withLock(async () => {
    if (mode && upToDate()) return; // another process built it while this one waited
    const started = Date.now();
    await vite.build({ configFile: join(root, 'vite.config.ts'), logLevel: 'warn' });
    writeFileSync(stamp, new Date().toISOString());
    console.log(`gatehouse: built the web UIs into ${dist} in ${((Date.now() - started) / 1000).toFixed(1)} s`);
  });
}

main().catch((err) => {
  console.error(err);
  process.exit(1);
});
