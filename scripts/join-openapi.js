#!/usr/bin/env node
// Joins the analysis endpoints' OpenAPI part (src/api/analysis/analysis-openapi.ts, compiled) into
// docs/openapi.json, replacing the analysis paths and schemas it held. Run after `tsc -b` whenever
// the analysis routes change, then `npx biome format --write docs/openapi.json`;
// analysis-openapi.test.ts fails until the two agree.
import { readFileSync, writeFileSync } from 'node:fs'

const { ANALYSIS_OPENAPI } = await import('../dist/src/api/analysis/analysis-openapi.js')
const { ANALYSIS_PREFIX } = await import('../dist/src/api/analysis/analysis-adapter.js')
const file = new URL('../docs/openapi.json', import.meta.url)
const doc = JSON.parse(readFileSync(file, 'utf8'))
for (const path of Object.keys(doc.paths)) if (path.startsWith(ANALYSIS_PREFIX)) delete doc.paths[path]
for (const name of Object.keys(doc.components.schemas))
  if (name.startsWith('Analysis')) delete doc.components.schemas[name]
Object.assign(doc.paths, ANALYSIS_OPENAPI.paths)
Object.assign(doc.components.schemas, ANALYSIS_OPENAPI.components.schemas)
writeFileSync(file, `${JSON.stringify(doc, null, 2)}\n`)
console.log(`docs/openapi.json: ${Object.keys(ANALYSIS_OPENAPI.paths).length} analysis paths joined`)
