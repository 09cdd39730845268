#!/usr/bin/env node
// The flowlog command. The TypeScript sources are compiled to dist/ by `npm install` (prepare).
import { existsSync } from 'node:fs'

const main = new URL('../dist/src/cli/main.js', import.meta.url)
if (!existsSync(main)) {
  console.error(
    'flowlog: dist/ is missing; run `npm install` (or `npm run build`) in the flowlog folder first',
  )
  process.exit(2)
}
await import(main.href)
