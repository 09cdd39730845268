#!/usr/bin/env -S GLIBC_TUNABLES=glibc.malloc.hugetlb=1 node
// The flowlog command. The TypeScript sources are compiled to dist/ by `npm install` (prepare).
//
// The tunable (glibc 2.35+, ignored elsewhere) gives malloc'd memory, where typed arrays live,
// transparent huge pages. The flow and connection tables are tens to hundreds of MiB read at
// random, and with 2 MiB pages their reads stop missing the TLB: a replay takes about a tenth
// less CPU and up to a quarter less time. glibc reads it only at process start, hence here; it
// replaces any GLIBC_TUNABLES of the caller's (`node bin/flowlog.js` runs without it).
import { existsSync } from 'node:fs'

const main = new URL('../dist/src/cli/main.js', import.meta.url)
if (!existsSync(main)) {
  console.error(
    'flowlog: dist/ is missing; run `npm install` (or `npm run build`) in the flowlog folder first',
  )
  process.exit(2)
}
await import(main.href)
